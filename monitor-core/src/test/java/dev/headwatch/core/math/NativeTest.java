package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The bulk copies out of column-major products, and the reuse of native arrays. */
class NativeTest {

    @Test
    void toDoubles_ofColumnMajorMatrices_isTheRowMajorOrder_inBothTypes() {
        Nd4j.getRandom().setSeed(3);
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            for (int[] shape : new int[][] {{37, 70}, {1, 5}, {64, 1}, {33, 32}}) {
                INDArray a = Nd4j.randn(type, shape[0], shape[1]).dup('f');
                double[] rows = Native.toDoubles(a);
                for (int i = 0; i < shape[0]; i++) {
                    for (int j = 0; j < shape[1]; j++) {
                        assertThat(rows[i * shape[1] + j]).isEqualTo(a.getDouble(i, j));
                    }
                }
            }
        }
    }

    @Test
    void borrow_returnsAnArrayGivenBack_onlyForTheSameTypeShapeAndOrder() {
        INDArray a = Native.borrow(DataType.FLOAT, 3, 4, 'f');
        Native.giveBack(a);
        assertThat(Native.borrow(DataType.FLOAT, 4, 3, 'f')).isNotSameAs(a);
        assertThat(Native.borrow(DataType.FLOAT, 3, 4, 'c')).isNotSameAs(a);
        assertThat(Native.borrow(DataType.DOUBLE, 3, 4, 'f')).isNotSameAs(a);
        INDArray again = Native.borrow(DataType.FLOAT, 3, 4, 'f');
        assertThat(again).isSameAs(a);
        assertThat(Native.borrow(DataType.FLOAT, 3, 4, 'f')).isNotSameAs(a); // handed out once only

        double[] values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12.5};
        INDArray filled = Native.borrowFilled(values, 3, 4, DataType.FLOAT, 'c');
        assertThat(Native.toDoubles(filled)).containsExactly(values);
        INDArray columns = Native.borrowFilled(values, 4, 3, DataType.DOUBLE, 'f'); // read as columns
        assertThat(columns.getDouble(1, 0)).isEqualTo(2);
        assertThat(columns.getDouble(0, 1)).isEqualTo(5);
    }
}
