package dev.headwatch.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.headwatch.core.math.RowMajor;
import dev.headwatch.core.math.Spectrum;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** The two forms of a head's input, ND4J arrays and row-major Java arrays, and their checks. */
class HeadInputTest {

    /** The Java form of an input given as ND4J arrays. */
    private static HeadInput rowForm(HeadInput in) {
        double[] v = in.v() == null ? null : RowMajor.of(in.v());
        return HeadInput.of(RowMajor.of(in.q()), RowMajor.of(in.k()), v, in.d(), in.dataType(),
                in.visibility(), in.scale());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.headwatch.core.HeadAnalysisBruteForceTest#cases")
    void rowForm_givesTheSameMetricsToTheBit(HeadAnalysisBruteForceTest.Case c) {
        HeadInput nd = HeadAnalysisBruteForceTest.input(c);
        HeadInput rows = rowForm(nd);
        assertThat(rows.n()).isEqualTo(nd.n());
        assertThat(rows.dv()).isEqualTo(nd.dv());
        assertThat(HeadAnalysis.compute(rows)).isEqualTo(HeadAnalysis.compute(nd));
        assertThat(LayerAnalysis.compute(List.of(rows, rows)).heads().get(1))
                .isEqualTo(LayerAnalysis.compute(List.of(nd, nd)).heads().get(1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.headwatch.core.HeadAnalysisBruteForceTest#cases")
    void analysis_doesNotModifyTheSharedRows(HeadAnalysisBruteForceTest.Case c) {
        HeadInput in = rowForm(HeadAnalysisBruteForceTest.input(c));
        double[] q = in.queryRows().clone(), k = in.keyRows().clone();
        double[] v = in.valueRows() == null ? null : in.valueRows().clone();
        LayerAnalysis.compute(List.of(in, in));
        Spectrum.singularValues(in);
        assertThat(in.queryRows()).isEqualTo(q);
        assertThat(in.keyRows()).isEqualTo(k);
        assertThat(in.valueRows()).isEqualTo(v);
    }

    @Test
    void floatRows_areRoundedIntoACopy_andTheNdFormHoldsThem() {
        double[] q = {0.1, 1.0 / 3, -2.7, 1e-3};
        double[] k = {0.2, 0.3, 0.4, 0.5};
        double[] v = {0.7, -0.9};
        HeadInput in = HeadInput.of(q, k, v, 2, DataType.FLOAT, Visibility.FULL, Double.NaN);
        assertThat(q[0]).isEqualTo(0.1);
        assertThat(in.queryRows()[0]).isEqualTo((double) 0.1f).isNotEqualTo(0.1);
        assertThat(in.queryRows()[1]).isEqualTo((double) (float) (1.0 / 3));
        assertThat(in.q().dataType()).isEqualTo(DataType.FLOAT);
        assertThat(in.q().getFloat(0, 1)).isEqualTo((float) (1.0 / 3));
        assertThat(in.k().getFloat(1, 1)).isEqualTo(0.5f);
        assertThat(in.v().shape()).containsExactly(2, 1);
        assertThat(in.v().getFloat(1, 0)).isEqualTo(-0.9f);
        assertThat(in.scale()).isEqualTo(1 / Math.sqrt(2));
    }

    @Test
    void doubleRows_areKeptExactly() {
        double[] q = {0.1, 1.0 / 3};
        HeadInput in = HeadInput.of(q, new double[] {1, 2}, null, 1, DataType.DOUBLE, Visibility.CAUSAL, 0.5);
        assertThat(in.queryRows()).containsExactly(0.1, 1.0 / 3);
        assertThat(in.q().getDouble(1, 0)).isEqualTo(1.0 / 3);
        assertThat(in.v()).isNull();
        assertThat(in.valueRows()).isNull();
        assertThat(in.dv()).isZero();
    }

    @Test
    void badRows_failWithAMessageNamingTheProblem() {
        double[] four = new double[4];
        assertThatThrownBy(() -> HeadInput.of(four, four, null, 3, DataType.FLOAT, Visibility.FULL, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 values").hasMessageContaining("d = 3");
        assertThatThrownBy(() -> HeadInput.of(four, new double[5], null, 2, DataType.FLOAT, Visibility.FULL, Double.NaN))
                .hasMessageContaining("K of 5 values is not [nk, d] with d = 2");
        assertThatThrownBy(() -> HeadInput.of(four, four, new double[3], 2, DataType.FLOAT, Visibility.FULL, Double.NaN))
                .hasMessageContaining("V must be [nk, dv] with nk = 2").hasMessageContaining("3 values");
        // cross-attention: 2 queries, 3 keys; FULL only
        assertThat(HeadInput.of(four, new double[6], new double[3], 2, DataType.FLOAT, Visibility.FULL, Double.NaN).nk())
                .isEqualTo(3);
        assertThatThrownBy(() -> HeadInput.of(four, new double[6], null, 2, DataType.FLOAT, Visibility.CAUSAL, Double.NaN))
                .hasMessageContaining("causal visibility needs queries and keys of one length");
        assertThatThrownBy(() -> HeadInput.of(four, new double[6], null, 2, DataType.FLOAT, Visibility.padded(2), Double.NaN))
                .hasMessageContaining("padded visibility needs queries and keys of one length");
        assertThatThrownBy(() -> HeadInput.of(four, four, null, 2, DataType.INT, Visibility.FULL, Double.NaN))
                .hasMessageContaining("FLOAT or DOUBLE").hasMessageContaining("INT");
        assertThatThrownBy(() -> HeadInput.of(new double[0], new double[0], null, 2, DataType.FLOAT, Visibility.FULL, Double.NaN))
                .hasMessageContaining("n >= 1");
        assertThatThrownBy(() -> HeadInput.of(four, four, null, 2, DataType.FLOAT, Visibility.padded(3), Double.NaN))
                .hasMessageContaining("padded length 3 exceeds sequence length n = 2");
        assertThatThrownBy(() -> HeadInput.of(four, four, null, 2, DataType.FLOAT, null, Double.NaN))
                .hasMessageContaining("visibility");
        assertThatThrownBy(() -> HeadInput.of(four, four, null, 2, DataType.FLOAT, Visibility.FULL, -1))
                .hasMessageContaining("scale");
        assertThatThrownBy(() -> HeadInput.of(null, four, null, 2, DataType.FLOAT, Visibility.FULL, Double.NaN))
                .hasMessageContaining("must not be null");
    }

    @Test
    void badArrays_stillFailAsBefore() {
        assertThatThrownBy(() -> HeadInput.of(Nd4j.zeros(DataType.FLOAT, 3, 2), Nd4j.zeros(DataType.FLOAT, 3, 4),
                null, Visibility.FULL, Double.NaN)).hasMessageContaining("Q and K differ in head dimension: Q [3, 2], K [3, 4]");
        assertThatThrownBy(() -> HeadInput.of(Nd4j.zeros(DataType.FLOAT, 3, 2), Nd4j.zeros(DataType.FLOAT, 3, 2),
                Nd4j.zeros(DataType.DOUBLE, 3, 2), Visibility.FULL, Double.NaN)).hasMessageContaining("V data type DOUBLE");
    }
}
