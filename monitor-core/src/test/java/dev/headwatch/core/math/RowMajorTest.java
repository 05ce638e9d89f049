package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;

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
            double[] before = a.dup().data().asDouble();
            assertThat(RowMajor.of(a)).as(a.shapeInfoToString()).containsExactly(expected);
            assertThat(a.dup().data().asDouble()).containsExactly(before);
        }
    }
}
