package dev.headwatch.capture;

import dev.headwatch.core.math.RowMajor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
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
    void of_realSelfAttentionParameters_viewsIntoTheFlatParameters_equalNd4jsElements() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            MultiLayerNetwork net = selfAttention(type);
            for (int layer = 0; layer < 2; layer++) {
                for (String key : new String[] {"Wq", "Wk", "Wv", "Wo"}) {
                    INDArray p = net.getLayer(layer).getParam(key);
                    String what = type + " layer " + layer + " " + key + " " + p.shapeInfoToString();
                    assertThat(RowMajor.isRowMajorRun(p.shape(), p.stride(), 0)).as(what).isTrue(); // the bulk path
                    assertThat(ArrayCopies.of(p)).as(what).containsExactly(elementwise(p));
                }
            }
            assertThat(net.getLayer(1).getParam("Wq").offset()).isPositive();
        }
    }

    @Test
    void sequence_ofRealActivations_equalsNd4jsElements_inBothTypes() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            MultiLayerNetwork net = selfAttention(type);
            INDArray features = Nd4j.rand(type, 3, 5, 7);
            for (INDArray a : net.feedForward(features, false)) {                   // [3, C, 7]
                assertThat(RowMajor.isRowMajorRun(a.shape(), a.stride(), 1)).isTrue();
                for (int row = 0; row < 3; row++) {
                    assertSequence(a, row);
                }
            }
        }
    }

    @Test
    void sequence_ofRowsInOneRun_atAnOffset_isRead_andOddLayoutsStillAre() {
        INDArray big = Nd4j.rand(DataType.FLOAT, 6, 4, 5);
        INDArray[] runs = {
                big.get(NDArrayIndex.interval(2, 5), NDArrayIndex.all(), NDArrayIndex.all()),       // offset 40
                Nd4j.rand(DataType.FLOAT, 2, 6, 4, 5).slice(1)
                        .get(NDArrayIndex.interval(2, 5), NDArrayIndex.all(), NDArrayIndex.all()),  // view of a view
                Nd4j.create(big.data(), new long[] {3, 4, 5}, new long[] {40, 5, 1}, 20, 'c'),       // every other row
                big.get(NDArrayIndex.interval(1, 4), NDArrayIndex.interval(1, 4), NDArrayIndex.all()), // channels cut
                Nd4j.rand(DataType.DOUBLE, 3, 1, 5),                                                 // one channel
        };
        for (INDArray a : runs) {
            assertThat(a.size(0)).isEqualTo(3);
            assertThat(RowMajor.isRowMajorRun(a.shape(), a.stride(), 1)).as(a.shapeInfoToString()).isTrue();
            for (int row = 0; row < 3; row++) {
                assertSequence(a, row);
            }
        }
        INDArray[] odd = {
                big.dup('f').get(NDArrayIndex.interval(1, 4), NDArrayIndex.all(), NDArrayIndex.all()), // 'f' view
                big.get(NDArrayIndex.interval(1, 4), NDArrayIndex.all(), NDArrayIndex.interval(1, 4)), // steps cut
                Nd4j.create(big.data(), new long[] {3, 4, 3}, new long[] {20, 5, 2}, 20, 'c'),       // step 2
                Nd4j.rand(DataType.FLOAT, 3, 6, 4).permute(0, 2, 1),                                   // [3, 4, 6]
        };
        for (INDArray a : odd) {
            assertThat(a.size(0)).isEqualTo(3);
            assertThat(RowMajor.isRowMajorRun(a.shape(), a.stride(), 1)).as(a.shapeInfoToString()).isFalse();
            for (int row = 0; row < 3; row++) {
                assertSequence(a, row);
            }
        }
        INDArray heads = Nd4j.rand(DataType.DOUBLE, 4, 3, 4, 5).get(NDArrayIndex.interval(1, 3)); // [mb, H, T, d]
        double[] s = ArrayCopies.sequence(heads, 1, 2);                                            // [T, H*d]
        for (int t = 0; t < 4; t++) {
            for (int h = 0; h < 3; h++) {
                for (int d = 0; d < 5; d++) {
                    assertThat(s[t * 15 + h * 5 + d]).isEqualTo(heads.getDouble(1, h, t, d));
                }
            }
        }
        INDArray mask = Nd4j.createFromArray(new float[][] {{1, 1, 0}, {1, 0, 1}, {0, 1, 1}}).get(NDArrayIndex.interval(1, 3));
        assertThat(ArrayCopies.visible(mask, 1)).containsExactly(false, true, true);
    }

    /** Sequence {@code row} of a {@code [mb, C, T]} array against ND4J's own element reads. */
    private static void assertSequence(INDArray a, int row) {
        int channels = (int) a.size(1);
        int steps = (int) a.size(2);
        double[] expected = new double[steps * channels];
        for (int t = 0; t < steps; t++) {
            for (int c = 0; c < channels; c++) {
                expected[t * channels + c] = a.getDouble(row, c, t);
            }
        }
        assertThat(ArrayCopies.sequence(a, row, 2)).as(a.shapeInfoToString() + " row " + row).containsExactly(expected);
    }

    /** ND4J's own element reads of a parameter (rank 2 or 3), row-major. */
    private static double[] elementwise(INDArray p) {
        long[] shape = p.rank() == 2 ? new long[] {1, p.size(0), p.size(1)} : p.shape();
        double[] out = new double[(int) p.length()];
        int e = 0;
        for (long i = 0; i < shape[0]; i++) {
            for (long j = 0; j < shape[1]; j++) {
                for (long k = 0; k < shape[2]; k++) {
                    out[e++] = p.rank() == 2 ? p.getDouble(j, k) : p.getDouble(i, j, k);
                }
            }
        }
        return out;
    }

    /** Two self-attention layers (5 -> 8 -> 8 features, 2 heads of 4), initialised, of the given type. */
    private static MultiLayerNetwork selfAttention(DataType type) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(5).dataType(type).weightInit(WeightInit.XAVIER).list()
                .layer(new SelfAttentionLayer.Builder().nIn(5).nOut(8).nHeads(2).projectInput(true).build())
                .layer(new SelfAttentionLayer.Builder().nIn(8).nOut(8).nHeads(2).projectInput(true).build())
                .setInputType(InputType.recurrent(5, 7))
                .build());
        net.init();
        return net;
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
