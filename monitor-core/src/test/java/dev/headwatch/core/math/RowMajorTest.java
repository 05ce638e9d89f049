package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** {@link RowMajor#of} against element-by-element reads, over views, strides, orders and types. */
class RowMajorTest {

    @Test
    void rowMajor_equalsElementwiseReads_forViewsStridesOrdersAndTypes() {
        Nd4j.getRandom().setSeed(9);
        INDArray base = Nd4j.randn(DataType.FLOAT, 4, 5, 6);
        INDArray[] arrays = {
                base,
                base.slice(2),                                                    // view at an offset
                base.slice(1).slice(3),                                           // view of a view
                base.permute(2, 0, 1),                                            // strided, rank 3
                base.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 4), NDArrayIndex.point(2)), // strided view
                base.slice(0).transpose(),
                base.castTo(DataType.DOUBLE).dup('f'),
                Nd4j.randn(DataType.DOUBLE, 1, 7),
                Nd4j.scalar(2.5),
                Nd4j.create(DataType.FLOAT, 0, 3),
        };
        for (INDArray a : arrays) {
            double[] before = a.dup().data().asDouble();
            assertThat(RowMajor.of(a)).as(a.shapeInfoToString()).containsExactly(elementwise(a));
            assertThat(a.dup().data().asDouble()).containsExactly(before);
        }
    }

    @Test
    void rowMajor_ofRunsInsideALargerBuffer_isReadInBulk_andEqualsElementwiseReads() {
        Nd4j.getRandom().setSeed(11);
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            INDArray flat = Nd4j.randn(type, 1, 2 * 3 * 4 + 5 * 7 + 9);          // as a network's flat parameters
            INDArray base = Nd4j.randn(type, 4, 5, 6);
            INDArray[] runs = {
                    flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, 24)).reshape('c', 2, 3, 4), // offset 0
                    flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(24, 59)).reshape('c', 5, 7),   // offset 24
                    flat.get(NDArrayIndex.all(), NDArrayIndex.interval(59, 68)),                         // [1, 9] row
                    base.slice(3),                                                                       // offset 90
                    base.slice(1).slice(2),                                                              // view of a view
                    base.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all(), NDArrayIndex.all()),       // rows 1..2
                    base.get(NDArrayIndex.point(2), NDArrayIndex.interval(1, 2), NDArrayIndex.all()),    // [1, 6]
            };
            for (INDArray a : runs) {
                assertThat(RowMajor.isRowMajorRun(a.shape(), a.stride(), 0)).as(a.shapeInfoToString()).isTrue();
                assertThat(RowMajor.of(a)).as(a.shapeInfoToString()).containsExactly(elementwise(a));
            }
            INDArray[] strided = {
                    base.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 4), NDArrayIndex.all()),      // rows skipped
                    Nd4j.create(base.data(), new long[] {4, 5, 3}, new long[] {30, 6, 2}, 0, 'c'),       // step 2
                    Nd4j.create(base.data(), new long[] {2, 5, 3}, new long[] {30, 6, 2}, 31, 'c'),      // and offset
                    base.slice(2).transpose(),
                    base.permute(1, 0, 2),
                    base.dup('f'),
                    base.slice(1).dup('f').get(NDArrayIndex.interval(1, 4), NDArrayIndex.all()),        // 'f' view
            };
            for (INDArray a : strided) {
                assertThat(RowMajor.isRowMajorRun(a.shape(), a.stride(), 0)).as(a.shapeInfoToString()).isFalse();
                assertThat(RowMajor.of(a)).as(a.shapeInfoToString()).containsExactly(elementwise(a));
            }
        }
    }

    @Test
    void read_copiesARunOfAnyType_fromAnyElement() {
        double[] values = {0.1, -2.5e-8, 3.25, Double.NaN, 1e30, -0.0, 7, 8, 9, 10};
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE, DataType.HALF, DataType.INT}) {
            INDArray a = Nd4j.createFromArray(values).castTo(type);
            INDArray view = a.get(NDArrayIndex.interval(2, 10));
            double[] out = new double[8];
            RowMajor.read(view.data(), 1, out, 2, 6);                              // elements 3 .. 8 of a
            for (int i = 0; i < 6; i++) {
                assertThat(Double.valueOf(out[2 + i])).as(type + " element " + i).isEqualTo(Double.valueOf(a.getDouble(3 + i))); // NaN, -0.0 too
            }
            assertThat(out[0]).isZero();
            assertThat(out[1]).isZero();
        }
    }

    @Test
    void read_ofARunLongerThanTheStagingChunk_inAViewAtAnOffset_equalsElementwiseReads() {
        Nd4j.getRandom().setSeed(13);
        int length = 2 * RowMajor.CHUNK + 37;
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            INDArray flat = Nd4j.randn(type, 1, length + 100);
            INDArray view = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(50, 50 + length + 20));
            double[] out = new double[length + 3];
            RowMajor.read(view.data(), 7, out, 3, length);                        // elements 57 .. of flat
            for (int i = 0; i < length; i++) {
                assertThat(out[3 + i]).as(type + " element " + i).isEqualTo(flat.getDouble(0, 57 + i));
            }
        }
    }

    @Test
    void read_pastTheEndOfAView_throws_insteadOfReadingBeyondIt() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            INDArray flat = Nd4j.linspace(type, 1, 40, 1).reshape(1, 40);
            INDArray view = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(10, 20));
            double[] out = new double[20];
            assertThatThrownBy(() -> RowMajor.read(view.data(), 5, out, 0, 10)).as(type.toString())
                    .isInstanceOf(IndexOutOfBoundsException.class);
            RowMajor.read(view.data(), 5, out, 0, 5);                             // the last five are there
            assertThat(java.util.Arrays.copyOf(out, 5)).containsExactly(16, 17, 18, 19, 20);
        }
    }

    @Test
    void isRowMajorRun_ignoresTheStrideOfSizeOneAxes_andChecksOnlyTheAxesFromTheGivenOne() {
        assertThat(RowMajor.isRowMajorRun(new long[] {3, 4}, new long[] {4, 1}, 0)).isTrue();
        assertThat(RowMajor.isRowMajorRun(new long[] {1, 4}, new long[] {99, 1}, 0)).isTrue();
        assertThat(RowMajor.isRowMajorRun(new long[] {3, 1, 4}, new long[] {4, 7, 1}, 0)).isTrue();
        assertThat(RowMajor.isRowMajorRun(new long[] {3, 4}, new long[] {5, 1}, 0)).isFalse();
        assertThat(RowMajor.isRowMajorRun(new long[] {3, 4}, new long[] {1, 3}, 0)).isFalse();
        assertThat(RowMajor.isRowMajorRun(new long[] {3, 4}, new long[] {5, 1}, 1)).isTrue();
        assertThat(RowMajor.isRowMajorRun(new long[] {}, new long[] {}, 0)).isTrue();
    }

    /** ND4J's own element reads in row-major order: the reference every copy must equal. */
    private static double[] elementwise(INDArray a) {
        double[] expected = new double[(int) a.length()];
        long[] shape = a.shape();
        long[] index = new long[shape.length];
        for (int e = 0; e < expected.length; e++) {
            long rest = e;
            for (int r = shape.length - 1; r >= 0; r--) {
                index[r] = rest % shape[r];
                rest /= shape[r];
            }
            expected[e] = a.getDouble(index);
        }
        return expected;
    }
}
