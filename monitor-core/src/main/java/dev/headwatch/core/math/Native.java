package dev.headwatch.core.math;

import java.nio.ByteOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bulk copies between Java arrays and ND4J's native buffers. {@code Nd4j.create(double[], ...)} copies
 * element by element (tens of milliseconds for a 1024 x 1024 matrix); a bulk NIO transfer is a memcpy.
 * Callers scope these allocations out of any workspace.
 */
final class Native {

    private Native() {
    }

    /** A fresh {@code rows x cols} array of the given type holding {@code a}, read in the given order. */
    static INDArray create(double[] a, int rows, int cols, DataType type, char order) {
        INDArray out = Nd4j.createUninitialized(type, new long[] {rows, cols}, order);
        java.nio.ByteBuffer buffer = out.data().asNio().order(ByteOrder.nativeOrder());
        if (type == DataType.DOUBLE) {
            buffer.asDoubleBuffer().put(a, 0, rows * cols);
        } else {
            float[] f = new float[rows * cols];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) a[i];
            }
            buffer.asFloatBuffer().put(f);
        }
        return out;
    }

    /**
     * The elements of a float or double array in row-major order, widened to double: a bulk copy when
     * the array is a whole row-major buffer, ND4J's own copy otherwise.
     */
    static double[] toDoubles(INDArray a) {
        if (!isWholeRowMajor(a)) {
            a = a.dup('c');
        }
        int n = (int) a.length();
        double[] out = new double[n];
        java.nio.ByteBuffer buffer = a.data().asNio().order(ByteOrder.nativeOrder());
        if (a.dataType() == DataType.DOUBLE) {
            buffer.asDoubleBuffer().get(out);
        } else if (a.dataType() == DataType.FLOAT) {
            float[] f = new float[n];
            buffer.asFloatBuffer().get(f);
            for (int i = 0; i < n; i++) {
                out[i] = f[i];
            }
        } else {
            return a.data().asDouble();
        }
        // The NIO view does not keep the native memory alive: the array must stay reachable until here, or
        // the collector may free its buffer during the copy.
        java.lang.ref.Reference.reachabilityFence(a);
        return out;
    }

    /** Whether the array is its whole buffer in row-major order (so the buffer can be copied as is). */
    static boolean isWholeRowMajor(INDArray a) {
        return a.ordering() == 'c' && a.offset() == 0 && a.length() == a.data().length()
                && java.util.Arrays.equals(a.stride(), org.nd4j.common.util.ArrayUtil.calcStrides(a.shape()));
    }
}
