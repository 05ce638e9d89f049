package dev.headwatch.core.math;

import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bulk copies between Java arrays and ND4J's native buffers, and native arrays kept for reuse.
 * {@code Nd4j.create(double[], ...)} copies element by element (tens of milliseconds for a 1024 x 1024
 * matrix); a bulk NIO transfer is a memcpy. A fresh native array costs more than the product it holds: its
 * memory is new to the process, and the page faults took about 3.5 ms per MB on the 2-core development
 * machine (14 ms for the float32 logits of a 1024 x 1024 head, against about 5 ms for the product), so
 * {@link #borrow} hands out arrays that earlier products gave back. Callers scope these allocations out of
 * any workspace.
 */
final class Native {

    /** At most this many arrays and bytes wait for reuse; beyond, the oldest is left to the collector. */
    private static final int SPARE_ARRAYS = 16;
    private static final long SPARE_BYTES = 64L << 20;
    private static final Deque<INDArray> SPARE = new ArrayDeque<>();
    private static long spareBytes;

    private Native() {
    }

    /**
     * A {@code rows x cols} array of the type and order, with arbitrary contents: one given back earlier
     * when one fits, else a new one. Give it back with {@link #giveBack} once nothing reads it any more.
     */
    static INDArray borrow(DataType type, int rows, int cols, char order) {
        synchronized (SPARE) {
            for (Iterator<INDArray> it = SPARE.iterator(); it.hasNext(); ) {
                INDArray a = it.next();
                if (a.dataType() == type && a.ordering() == order && a.size(0) == rows && a.size(1) == cols) {
                    it.remove();
                    spareBytes -= bytes(a);
                    return a;
                }
            }
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.createUninitialized(type, new long[] {rows, cols}, order);
        }
    }

    /** Keeps arrays from {@link #borrow} for reuse; the caller must not touch them afterwards. */
    static void giveBack(INDArray... arrays) {
        synchronized (SPARE) {
            for (INDArray a : arrays) {
                SPARE.addLast(a);
                spareBytes += bytes(a);
            }
            while (SPARE.size() > SPARE_ARRAYS || spareBytes > SPARE_BYTES) {
                spareBytes -= bytes(SPARE.removeFirst());
            }
        }
    }

    private static long bytes(INDArray a) {
        return a.length() * a.dataType().width();
    }

    /** {@link #borrow}s an array and fills it with {@code a}, read in the given order. */
    static INDArray borrowFilled(double[] a, int rows, int cols, DataType type, char order) {
        INDArray out = borrow(type, rows, cols, order);
        fill(out, a, rows * cols);
        return out;
    }

    /** Writes {@code a[0 .. length)} into the start of a whole float or double array's buffer. */
    private static void fill(INDArray out, double[] a, int length) {
        java.nio.ByteBuffer buffer = out.data().asNio().order(ByteOrder.nativeOrder());
        if (out.dataType() == DataType.DOUBLE) {
            buffer.asDoubleBuffer().put(a, 0, length);
        } else {
            java.nio.FloatBuffer floats = buffer.asFloatBuffer();
            float[] chunk = new float[Math.min(length, 4096)];
            for (int from = 0; from < length; from += chunk.length) {
                int count = Math.min(chunk.length, length - from);
                for (int i = 0; i < count; i++) {
                    chunk[i] = (float) a[from + i];
                }
                floats.put(chunk, 0, count);
            }
        }
        java.lang.ref.Reference.reachabilityFence(out);
    }

    /**
     * The elements of a float or double array in row-major order, widened to double: a bulk copy when
     * the array is a whole buffer (of rows, or of columns as BLAS writes a matrix), ND4J's own copy otherwise.
     */
    static double[] toDoubles(INDArray a) {
        if (a.rank() == 2 && isWhole(a, 'f') && (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE)) {
            return fromColumns(a);
        }
        if (!isWhole(a, 'c')) {
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

    /**
     * The row-major doubles of a whole column-major float or double matrix: a few columns at a time come out of
     * the buffer, and each row's part of them is one cache line of the result.
     */
    private static double[] fromColumns(INDArray a) {
        int rows = (int) a.size(0);
        int cols = (int) a.size(1);
        double[] out = new double[rows * cols];
        int width = 8;
        double[] block = new double[width * rows];
        java.nio.ByteBuffer buffer = a.data().asNio().order(ByteOrder.nativeOrder());
        boolean single = a.dataType() == DataType.FLOAT;
        java.nio.FloatBuffer floatColumns = single ? buffer.asFloatBuffer() : null;
        java.nio.DoubleBuffer doubleColumns = single ? null : buffer.asDoubleBuffer();
        float[] floats = single ? new float[block.length] : null;
        for (int j0 = 0; j0 < cols; j0 += width) {
            int w = Math.min(width, cols - j0);
            if (single) {
                floatColumns.get(floats, 0, w * rows);
                for (int i = 0; i < w * rows; i++) {
                    block[i] = floats[i];
                }
            } else {
                doubleColumns.get(block, 0, w * rows);
            }
            for (int i = 0; i < rows; i++) {
                for (int c = 0, o = i * cols + j0; c < w; c++) {
                    out[o + c] = block[c * rows + i];
                }
            }
        }
        java.lang.ref.Reference.reachabilityFence(a);
        return out;
    }

    /** Whether the array is its whole buffer in the given order, with that order's default strides. */
    private static boolean isWhole(INDArray a, char order) {
        return a.ordering() == order && a.offset() == 0 && a.length() == a.data().length()
                && java.util.Arrays.equals(a.stride(), order == 'c' ? org.nd4j.common.util.ArrayUtil.calcStrides(a.shape())
                        : org.nd4j.common.util.ArrayUtil.calcStridesFortran(a.shape()));
    }
}
