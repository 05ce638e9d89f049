package dev.headwatch.core.math;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** ND4J arrays read into row-major Java arrays: how every metric receives its data. */
public final class RowMajor {

    private RowMajor() {
    }

    /**
     * The row-major double contents of an array of any rank (views, strides and float32 handled). Read on
     * the Java side, element {@code (i_0, i_1, ...)} at {@code data()[sum i_r stride_r]} as ND4J's own
     * {@code getDouble} does: a native cast and copy costs a few milliseconds of dispatch per call, more
     * than the whole read.
     */
    public static double[] of(INDArray a) {
        if (a.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("array of " + a.length() + " elements is too large for a Java array");
        }
        if (Native.isWholeRowMajor(a)) {
            return Native.toDoubles(a); // a whole row-major buffer: one bulk copy
        }
        DataBuffer data = a.data();
        long[] shape = a.shape();
        long[] stride = a.stride();
        int rank = shape.length;
        long[] index = new long[rank];
        double[] out = new double[(int) a.length()];
        long offset = 0;
        for (int e = 0; e < out.length; e++) {
            out[e] = data.getDouble(offset);
            for (int r = rank - 1; r >= 0; r--) { // odometer over the indices, last fastest
                if (++index[r] < shape[r]) {
                    offset += stride[r];
                    break;
                }
                offset -= (shape[r] - 1) * stride[r];
                index[r] = 0;
            }
        }
        return out;
    }
}
