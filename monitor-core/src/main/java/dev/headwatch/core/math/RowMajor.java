package dev.headwatch.core.math;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** ND4J arrays read into row-major Java arrays: how every metric receives its data. */
public final class RowMajor {

    /**
     * Floats read per native copy: the staging array (8 KB, the calling thread's, kept from call to call) stays
     * small whatever the array's size, and a copy of a parameter allocates little beyond its result (a pointer
     * object per run).
     */
    static final int CHUNK = 2048;
    private static final ThreadLocal<float[]> STAGING = ThreadLocal.withInitial(() -> new float[CHUNK]);

    private RowMajor() {
    }

    /**
     * The row-major double contents of an array of any rank (views, strides and float32 handled). Read on
     * the Java side, element {@code (i_0, i_1, ...)} at {@code data()[sum i_r stride_r]} as ND4J's own
     * {@code getDouble} does: a native cast and copy costs a few milliseconds of dispatch per call, more
     * than the whole read. Elements that lie one after the other in row-major order (a whole buffer, or a
     * view such as a parameter inside a network's flat parameter vector) are read in bulk; any other layout
     * element by element.
     */
    public static double[] of(INDArray a) {
        if (a.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("array of " + a.length() + " elements is too large for a Java array");
        }
        DataBuffer data = a.data();
        long[] shape = a.shape();
        long[] stride = a.stride();
        double[] out = new double[(int) a.length()];
        if (isRowMajorRun(shape, stride, 0)) {
            read(data, 0, out, 0, out.length);
            return out;
        }
        int rank = shape.length;
        long[] index = new long[rank];
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

    /**
     * Whether axes {@code from ..} of an array with these shape and strides hold their elements one after the
     * other in row-major order: each axis steps over the whole block of the axes after it (an axis of size 1
     * may have any stride, it is never stepped along).
     */
    public static boolean isRowMajorRun(long[] shape, long[] stride, int from) {
        long block = 1;
        for (int r = shape.length - 1; r >= from; r--) {
            if (shape[r] != 1 && stride[r] != block) {
                return false;
            }
            block *= shape[r];
        }
        return true;
    }

    /**
     * Copies {@code length} consecutive elements of a buffer, from its element {@code from} on (counted as
     * {@link DataBuffer#getDouble(long)} counts them), into {@code out} from {@code at} on, widened to double.
     * Float and double buffers are read in bulk from the memory of the buffer's own indexer, the one
     * {@code getDouble} reads through (for a view it starts at the view's first element): by native copies of
     * its pointer, since the indexer's own bulk get reads one element per call; through the indexer where it
     * has no pointer (or the run does not lie inside it: the indexer then throws as it checks every index);
     * other types element by element. No ND4J op runs and nothing is allocated off the Java heap.
     */
    public static void read(DataBuffer data, long from, double[] out, int at, int length) {
        if (data.dataType() == DataType.DOUBLE && data.indexer() instanceof DoubleIndexer doubles) {
            if (doubles.pointer() instanceof DoublePointer p && inside(p, from, length)) {
                new DoublePointer(p).position(p.position() + from).get(out, at, length);
            } else {
                doubles.get(from, out, at, length);
            }
        } else if (data.dataType() == DataType.FLOAT && data.indexer() instanceof FloatIndexer floats) {
            FloatPointer pointer = floats.pointer() instanceof FloatPointer p && inside(p, from, length)
                    ? new FloatPointer(p) : null;
            long first = pointer == null ? 0 : pointer.position() + from;
            float[] chunk = STAGING.get();
            for (int done = 0; done < length; done += CHUNK) {
                int count = Math.min(CHUNK, length - done);
                if (pointer != null) {
                    pointer.position(first + done).get(chunk, 0, count);
                } else {
                    floats.get(from + done, chunk, 0, count);
                }
                for (int i = 0; i < count; i++) {
                    out[at + done + i] = chunk[i];
                }
            }
        } else {
            for (int i = 0; i < length; i++) {
                out[at + i] = data.getDouble(from + i);
            }
        }
        // The pointers do not keep the native memory alive: the buffer must stay reachable until here, or the
        // collector may free it during the copy.
        java.lang.ref.Reference.reachabilityFence(data);
    }

    /** Whether elements {@code from .. from+length-1} from the pointer's position lie inside its limit. */
    private static boolean inside(Pointer p, long from, int length) {
        return !p.isNull() && from >= 0 && from + length <= p.limit() - p.position();
    }
}
