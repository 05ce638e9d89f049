package dev.headwatch.capture;

import dev.headwatch.core.math.RowMajor;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Plain Java copies of ND4J arrays, read from their buffers as {@link RowMajor} reads (in bulk where the
 * elements lie one after the other, element by element otherwise): no ND4J op runs (so nothing is dispatched
 * to native threads) and no view is created (so nothing is allocated in the workspace DL4J has open during
 * its forward pass). What an adapter copies is its own from then on and may cross to another thread: training
 * may reuse or free the arrays it was copied from.
 */
public final class ArrayCopies {

    private ArrayCopies() {
    }

    /**
     * Runs {@code copy} with every ND4J allocation out of the workspaces DL4J has open: what it creates outlives
     * the forward pass.
     */
    public static <T> T outsideWorkspaces(Supplier<T> copy) {
        try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            return copy.get();
        }
    }

    /** The whole array, row-major (weights as the forward pass used them: training updates them in place later). */
    public static double[] of(INDArray a) {
        return a == null ? null : RowMajor.of(a);
    }

    /**
     * One sequence of a batch-first array, one row per position: entry {@code (t, f)} of the result is
     * {@code a[row, ..., t, ...]} with t on {@code timeAxis} and f running over the other axes after the
     * batch in C order. {@code [mb, C, T]} with time axis 2 gives {@code [T, C]}; {@code [mb, H, T, d]} with
     * time axis 2 gives {@code [T, H*d]}, head h in columns {@code h*d ..}.
     */
    public static double[] sequence(INDArray a, int row, int timeAxis) {
        int rank = a.rank();
        if (rank < 2 || timeAxis < 1 || timeAxis >= rank || row < 0 || row >= a.size(0)) {
            throw new IllegalArgumentException("cannot read sequence " + row + " along axis " + timeAxis
                    + " of an array of shape " + Arrays.toString(a.shape()));
        }
        long[] shape = a.shape();
        long[] stride = a.stride();
        int steps = (int) shape[timeAxis];
        int[] axes = new int[rank - 2];
        int features = 1;
        for (int ax = 1, i = 0; ax < rank; ax++) {
            if (ax != timeAxis) {
                axes[i++] = ax;
                features *= (int) shape[ax];
            }
        }
        DataBuffer data = a.data();
        double[] out = new double[steps * features];
        long base = row * stride[0];
        if (RowMajor.isRowMajorRun(shape, stride, 1)) { // the whole row lies in one run: read it at once
            int before = 1;
            int after = 1;
            for (int ax = 1; ax < rank; ax++) {
                before *= ax < timeAxis ? (int) shape[ax] : 1;
                after *= ax > timeAxis ? (int) shape[ax] : 1;
            }
            if (before == 1) {
                RowMajor.read(data, base, out, 0, out.length); // already one row per position
            } else {
                double[] block = new double[out.length];
                RowMajor.read(data, base, block, 0, block.length);
                timeFirst(block, out, before, steps, after);
            }
            return out;
        }
        long[] index = new long[axes.length];
        for (int t = 0; t < steps; t++) {
            long offset = base + t * stride[timeAxis];
            Arrays.fill(index, 0);
            for (int f = 0; f < features; f++) {
                out[t * features + f] = data.getDouble(offset);
                for (int r = axes.length - 1; r >= 0; r--) { // odometer over the feature axes, last fastest
                    int ax = axes[r];
                    if (++index[r] < shape[ax]) {
                        offset += stride[ax];
                        break;
                    }
                    offset -= (shape[ax] - 1) * stride[ax];
                    index[r] = 0;
                }
            }
        }
        return out;
    }

    /** Rearranges a row-major {@code [before, steps, after]} block into {@code [steps, before * after]}. */
    private static void timeFirst(double[] block, double[] out, int before, int steps, int after) {
        int features = before * after;
        for (int p = 0; p < before; p++) {
            for (int t = 0; t < steps; t++) {
                System.arraycopy(block, (p * steps + t) * after, out, t * features + p * after, after);
            }
        }
    }

    /** Which positions of sequence {@code row} a {@code [mb, T]} (or {@code [mb, 1, T]}) mask keeps (non-zero); null without a mask. */
    public static boolean[] visible(INDArray mask, int row) {
        if (mask == null) {
            return null;
        }
        double[] m = sequence(mask, row, mask.rank() - 1);
        boolean[] v = new boolean[m.length];
        for (int t = 0; t < v.length; t++) {
            v[t] = m[t] != 0.0;
        }
        return v;
    }

    /** Positions both masks keep; either mask may be null (keeps everything). */
    public static boolean[] both(boolean[] a, boolean[] b) {
        if (a == null || b == null) {
            return a != null ? a : b;
        }
        boolean[] v = new boolean[a.length];
        for (int t = 0; t < v.length; t++) {
            v[t] = a[t] && b[t];
        }
        return v;
    }
}
