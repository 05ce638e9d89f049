package dev.headwatch.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.headwatch.core.math.WeightSpectra;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Weight-only metrics against a brute-force LAPACK SVD of the full {@code nIn x nIn} form. */
class WeightAnalysisTest {

    /** Dense {@code M = tau Wq^T Wk}: singular values, U and V^T from LAPACK gesvd. */
    record DenseSvd(double[] sigma, INDArray u, INDArray vt) {
        static DenseSvd of(INDArray wq, INDArray wk, double tau) {
            INDArray mm = wq.castTo(DataType.DOUBLE).transpose().mmul(wk.castTo(DataType.DOUBLE)).muli(tau).dup('f');
            int nInQ = (int) mm.rows();
            int nInK = (int) mm.columns();
            INDArray s = Nd4j.create(DataType.DOUBLE, Math.min(nInQ, nInK));
            INDArray u = Nd4j.create(DataType.DOUBLE, new long[] {nInQ, nInQ}, 'f');
            INDArray vt = Nd4j.create(DataType.DOUBLE, new long[] {nInK, nInK}, 'f');
            Nd4j.getBlasWrapper().lapack().gesvd(mm, s, u, vt);
            return new DenseSvd(s.toDoubleVector(), u, vt);
        }

        double overlap(DenseSvd other, int k) {
            INDArray uu = u.get(all(), range(k)).transpose().mmul(other.u.get(all(), range(k)));
            INDArray vv = vt.get(range(k), all()).mmul(other.vt.get(range(k), all()).transpose());
            return (uu.mul(uu).sumNumber().doubleValue() + vv.mul(vv).sumNumber().doubleValue()) / (2.0 * k);
        }

        static org.nd4j.linalg.indexing.INDArrayIndex all() {
            return org.nd4j.linalg.indexing.NDArrayIndex.all();
        }

        static org.nd4j.linalg.indexing.INDArrayIndex range(int k) {
            return org.nd4j.linalg.indexing.NDArrayIndex.interval(0, k);
        }
    }

    static INDArray gaussian(Random rnd, long... shape) {
        INDArray a = Nd4j.create(DataType.DOUBLE, shape);
        for (long i = 0; i < a.length(); i++) {
            a.putScalar(i, rnd.nextGaussian());
        }
        return a;
    }

    @Test
    void aHeadWhoseEigenproblemOverflows_isNaN_andTheOtherHeadsStand() {
        Random rnd = new Random(5);
        int hs = 4, nIn = 6;
        double[][] wq = new double[2][hs * nIn];
        double[][] wk = new double[2][hs * nIn];
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < hs * nIn; i++) {
                wq[h][i] = rnd.nextGaussian();
                wk[h][i] = rnd.nextGaussian() * (h == 1 ? 1e200 : 1); // head 1: Wk Wk^T overflows to infinity
            }
        }
        double[] norms = WeightAnalysis.spectralNorms(wq, wk, hs, nIn, nIn, Double.NaN);
        assertThat(norms[0]).isEqualTo(WeightSpectra.spectralNorm(wq[0], wk[0], hs, nIn, nIn, 0.5));
        assertThat(norms[1]).isNaN();
    }

    @Test
    void spectralNormStableRankAndOverlap_matchDenseSvd() {
        Random rnd = new Random(11);
        // heads, nInQ, hs, nInK: queries and keys of one width, then of different widths (either below hs)
        int[][] shapes = {{4, 16, 3, 16}, {3, 10, 4, 10}, {2, 5, 8, 5}, {3, 24, 12, 24}, {2, 1, 3, 1},
                {2, 6, 3, 4}, {3, 2, 4, 7}, {2, 9, 5, 3}, {2, 12, 10, 20}};
        for (int[] shape : shapes) {
            int heads = shape[0], nInQ = shape[1], hs = shape[2], nInK = shape[3];
            INDArray wq = gaussian(rnd, heads, hs, nInQ);
            INDArray wk = gaussian(rnd, heads, hs, nInK);
            wk.slice(heads - 1).assign(wk.slice(0)); // two heads share Wk: a partial overlap
            double tau = 1 / Math.sqrt(hs);
            WeightLayerMetrics layer = WeightAnalysis.compute(wq, wk, Double.NaN);
            List<DenseSvd> dense = new ArrayList<>();
            for (int h = 0; h < heads; h++) {
                DenseSvd ref = DenseSvd.of(wq.slice(h), wk.slice(h), tau);
                dense.add(ref);
                double s1 = ref.sigma()[0];
                double sum2 = 0;
                for (double s : ref.sigma()) {
                    sum2 += s * s;
                }
                WeightHeadMetrics m = layer.heads().get(h);
                assertThat(m.qkSpectralNorm()).isCloseTo(s1, within(1e-10 * s1));
                assertThat(m.qkStableRank()).isCloseTo(sum2 / (s1 * s1), within(1e-10));
                assertThat(m.get(WeightField.QK_SPECTRAL_NORM)).isEqualTo(m.qkSpectralNorm());
            }
            int k = Math.min(Math.min(hs, Math.min(nInQ, nInK)), 8);
            for (int h = 0; h < heads; h++) {
                for (int g = 0; g < heads; g++) {
                    assertThat(layer.qkOverlap(h, g)).as("%s %d %d", java.util.Arrays.toString(shape), h, g)
                            .isCloseTo(dense.get(h).overlap(dense.get(g), k), within(1e-9));
                }
                assertThat(layer.qkOverlap(h, h)).isCloseTo(1.0, within(1e-12));
            }
        }
    }

    @Test
    void singularValues_matchDenseSvd() {
        Random rnd = new Random(17);
        INDArray wq = gaussian(rnd, 2, 3, 7);
        INDArray wk = gaussian(rnd, 2, 3, 7);
        WeightLayerMetrics layer = WeightAnalysis.compute(wq, wk, Double.NaN);
        for (int h = 0; h < 2; h++) {
            double[] dense = DenseSvd.of(wq.slice(h), wk.slice(h), 1 / Math.sqrt(3)).sigma();
            double[] sigma = layer.singularValues(h);
            assertThat(sigma).hasSize(3); // min(hs, nIn); the other nIn - hs values of M are 0
            for (int t = 0; t < 3; t++) {
                assertThat(sigma[t]).isCloseTo(dense[t], within(1e-10 * dense[0]));
            }
            assertThat(sigma[0]).isCloseTo(layer.heads().get(h).qkSpectralNorm(), within(1e-13 * sigma[0]));
        }
    }

    @Test
    void viewsIntoAFlatParameterVector_giveExactlyTheNumbersOfContiguousCopies() {
        // DL4J hands Wq and Wk out as float views into one flat parameter vector, at an offset.
        Random rnd = new Random(23);
        INDArray flat = gaussian(rnd, 1, 5 + 2 * 3 * 4 * 6).castTo(DataType.FLOAT);
        INDArray wq = flat.get(DenseSvd.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(5, 5 + 72)).reshape('c', 3, 4, 6);
        INDArray wk = flat.get(DenseSvd.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(77, 77 + 72)).reshape('c', 3, 4, 6);
        assertThat(wq.isView()).isTrue();
        WeightLayerMetrics views = WeightAnalysis.compute(wq, wk, Double.NaN);
        WeightLayerMetrics copies = WeightAnalysis.compute(wq.dup('c'), wk.dup('c'), Double.NaN);
        WeightLayerMetrics fortran = WeightAnalysis.compute(wq.dup('f'), wk.dup('f'), Double.NaN);
        for (WeightLayerMetrics other : List.of(copies, fortran)) {
            assertThat(views.heads()).isEqualTo(other.heads());
            assertThat(views.qkOverlap()).isDeepEqualTo(other.qkOverlap());
            for (int h = 0; h < 3; h++) {
                assertThat(views.singularValues(h)).containsExactly(other.singularValues(h));
            }
        }
    }

    @Test
    void float32AndPerHeadLists_giveTheSameAsDouble() {
        Random rnd = new Random(5);
        INDArray wq = gaussian(rnd, 2, 4, 9);
        INDArray wk = gaussian(rnd, 2, 4, 9);
        WeightLayerMetrics d = WeightAnalysis.compute(wq, wk, 0.3);
        WeightLayerMetrics f = WeightAnalysis.compute(List.of(wq.slice(0).castTo(DataType.FLOAT), wq.slice(1).castTo(DataType.FLOAT)),
                List.of(wk.slice(0).castTo(DataType.FLOAT), wk.slice(1).castTo(DataType.FLOAT)), 0.3);
        for (int h = 0; h < 2; h++) {
            assertThat(f.heads().get(h).qkSpectralNorm()).isCloseTo(d.heads().get(h).qkSpectralNorm(), within(1e-5));
        }
        assertThat(f.qkOverlap(0, 1)).isCloseTo(d.qkOverlap(0, 1), within(1e-5));
    }

    @Test
    void zeroWeights_spectralNormAndStableRankZero() {
        WeightLayerMetrics m = WeightAnalysis.compute(Nd4j.zeros(DataType.DOUBLE, 3, 5), Nd4j.ones(DataType.DOUBLE, 3, 5), Double.NaN);
        assertThat(m.heads().get(0).qkSpectralNorm()).isZero();
        assertThat(m.heads().get(0).qkStableRank()).isZero();
        assertThat(m.heads().get(0).toMap()).containsEntry("qkSpectralNorm", 0.0);
    }

    @Test
    void mismatchedShapes_nameBoth() {
        assertThatThrownBy(() -> WeightAnalysis.compute(Nd4j.zeros(2, 3, 5), Nd4j.zeros(2, 4, 5), Double.NaN))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[2, 3, 5]").hasMessageContaining("[2, 4, 5]");
    }

    @Test
    void spectralNorms_equalTheFullAnalysisBitForBit() {
        Random random = new Random(5);
        for (int[] shape : new int[][] {{4, 16, 16}, {2, 8, 32}, {3, 32, 8}, {1, 1, 1}, {2, 5, 5}}) {
            INDArray wq = Nd4j.randn(random.nextLong(), new long[] {shape[0], shape[1], shape[2]}).castTo(DataType.FLOAT);
            INDArray wk = Nd4j.randn(random.nextLong(), new long[] {shape[0], shape[1], shape[2]}).castTo(DataType.FLOAT);
            if (shape[0] > 1) {
                wk.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1)).assign(0); // a dead head
                wq.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0)).getRow(0).assign(wq.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0)).getRow(1)); // rank-deficient
            }
            for (double scale : new double[] {Double.NaN, 0.3}) {
                double[] fast = WeightAnalysis.spectralNorms(wq, wk, scale);
                WeightLayerMetrics full = WeightAnalysis.compute(wq, wk, scale);
                assertThat(fast).hasSize(shape[0]);
                for (int h = 0; h < shape[0]; h++) {
                    assertThat(fast[h]).as("head %d of %s", h, java.util.Arrays.toString(shape))
                            .isEqualTo(full.heads().get(h).qkSpectralNorm());
                }
            }
        }
        INDArray nan = Nd4j.createFromArray(new double[][] {{Double.NaN, 1}, {0, 1}});
        assertThat(WeightAnalysis.spectralNorms(nan, nan, Double.NaN)[0]).isNaN();
        assertThatThrownBy(() -> WeightAnalysis.spectralNorms(nan, Nd4j.ones(3, 2), 1.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 2]");
    }
}
