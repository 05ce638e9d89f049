package dev.headwatch.capture;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The copies against ND4J's own element access, over the layouts DL4J hands to listeners. */
class ArrayCopiesTest {

    @Test
    void sequence_equalsNd4jsElements_forCAndFOrder_viewsAndRank4() {
        INDArray c = Nd4j.rand(DataType.FLOAT, 3, 4, 5);
        INDArray f = c.dup('f');
        INDArray permuted = Nd4j.rand(DataType.DOUBLE, 3, 5, 4).permute(0, 2, 1);  // [3, 4, 5], not C order
        INDArray view = Nd4j.rand(DataType.FLOAT, 5, 4, 7).get(NDArrayIndex.interval(1, 4), NDArrayIndex.all(),
                NDArrayIndex.interval(2, 7));                                        // offset and strides
        for (INDArray a : new INDArray[] {c, f, permuted, view}) {
            for (int row = 0; row < 3; row++) {
                double[] s = ArrayCopies.sequence(a, row, 2);                         // [T, C]
                for (int t = 0; t < 5; t++) {
                    for (int ch = 0; ch < 4; ch++) {
                        assertThat(s[t * 4 + ch]).isEqualTo(a.getDouble(row, ch, t));
                    }
                }
            }
        }
        INDArray heads = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 5);                     // [mb, H, T, d]
        double[] s = ArrayCopies.sequence(heads, 1, 2);                               // [T, H*d]
        for (int t = 0; t < 4; t++) {
            for (int h = 0; h < 3; h++) {
                for (int d = 0; d < 5; d++) {
                    assertThat(s[t * 15 + h * 5 + d]).isEqualTo(heads.getDouble(1, h, t, d));
                }
            }
        }
    }

    @Test
    void visible_readsAMaskRow_andBothKeepsWhatEitherKeeps() {
        INDArray mask = Nd4j.createFromArray(new float[][] {{1, 1, 0}, {1, 0, 1}});
        assertThat(ArrayCopies.visible(mask, 1)).containsExactly(true, false, true);
        assertThat(ArrayCopies.visible(null, 0)).isNull();
        assertThat(ArrayCopies.both(ArrayCopies.visible(mask, 0), ArrayCopies.visible(mask, 1)))
                .containsExactly(true, false, false);
        assertThat(ArrayCopies.both(null, new boolean[] {true})).containsExactly(true);
    }

    @Test
    void sequence_outOfRange_namesTheShape() {
        assertThatThrownBy(() -> ArrayCopies.sequence(Nd4j.zeros(2, 3, 4), 2, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 3, 4]");
    }
}
