package dev.headwatch.core.math;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The {@code O(m d^2)} kernels of the FULL path (thin QR, small SVDs, tall products) through the LAPACK
 * and BLAS of the ND4J backend: blocked native code is an order of magnitude faster than the Java loops
 * of {@link Dense} on a {@code 1024 x 64} matrix, and the copies in and out cost {@code O(m d)}. Small
 * inputs stay in Java, where a native call costs more than it saves. Inputs are never modified.
 */
final class Lapack {

    /** Below this many multiply-adds the Java kernels win (a native call costs tens of microseconds). */
    static final long MIN_WORK = 1L << 16;

    private Lapack() {
    }

    /** As {@link Dense#qrR}: the R factor ({@code min(rows, cols) x cols}, column-major) of a column-major matrix. */
    static double[] qrR(double[] a, int rows, int cols) {
        if (rows < cols || (long) rows * cols * cols < MIN_WORK) {
            return Dense.qrR(a.clone(), rows, cols);
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray m = Native.create(a, rows, cols, DataType.DOUBLE, 'f');
            INDArray r = Nd4j.create(DataType.DOUBLE, new long[] {cols, cols}, 'f');
            Nd4j.getBlasWrapper().lapack().geqrf(m, r);
            double[] full = r.data().asDouble(); // column-major
            // keep the upper triangle only: below it the buffer may hold reflector data
            for (int j = 0; j < cols; j++) {
                java.util.Arrays.fill(full, j * cols + j + 1, (j + 1) * cols, 0.0);
            }
            return full;
        }
    }

    /**
     * The singular values of a column-major {@code rows x cols} matrix (length {@code cols}, zeros past
     * {@code min(rows, cols)}; descending when {@code v} is null) and, when {@code v} is not null, the
     * matching right singular vectors written into it as columns (column-major {@code cols x cols}; only
     * those of nonzero singular values are guaranteed). Small matrices stay in Java: values alone by
     * {@link GolubKahan}, with vectors by {@link Dense#jacobi}.
     */
    static double[] svd(double[] a, int rows, int cols, double[] v) {
        if (rows == 0 || cols == 0 || (long) rows * cols * cols < MIN_WORK) {
            if (v == null) {
                return java.util.Arrays.copyOf(GolubKahan.singularValues(a, rows, cols), cols);
            }
            return rows > cols ? smallSvd(a, rows, cols, v) : transposedSvd(a, rows, cols, v);
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray m = Native.create(a, rows, cols, DataType.DOUBLE, 'f');
            INDArray s = Nd4j.create(DataType.DOUBLE, Math.min(rows, cols));
            INDArray vt = v == null ? null : Nd4j.create(DataType.DOUBLE, new long[] {cols, cols}, 'f');
            Nd4j.getBlasWrapper().lapack().gesvd(m, s, null, vt);
            if (v != null) {
                // row c of V^T is the c-th right singular vector: column c of V, i.e. V^T read row-major
                System.arraycopy(Native.toDoubles(vt), 0, v, 0, cols * cols);
            }
            return java.util.Arrays.copyOf(Native.toDoubles(s), cols);
        }
    }

    private static double[] smallSvd(double[] a, int rows, int cols, double[] v) {
        System.arraycopy(Dense.identity(cols), 0, v, 0, cols * cols);
        return Dense.jacobi(a.clone(), rows, cols, v);
    }

    /**
     * Jacobi on the rows of A ({@code rows <= cols}, as the R factor of a thin QR): one-sided Jacobi on
     * {@code A^T = V S U^T} turns its columns into {@code V S}, so the right singular vectors of A come out
     * of the rotated columns without accumulating rotations, and the rows of an R factor make Jacobi
     * converge in fewer sweeps than its columns do. Columns of v whose singular value is 0 are 0.
     */
    private static double[] transposedSvd(double[] a, int rows, int cols, double[] v) {
        double[] t = new double[cols * rows];
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) {
                t[i * cols + c] = a[c * rows + i];
            }
        }
        double[] sigma = Dense.jacobi(t, cols, rows, null);
        java.util.Arrays.fill(v, 0, cols * cols, 0.0);
        for (int i = 0; i < rows; i++) {
            if (sigma[i] > 0) {
                for (int c = 0; c < cols; c++) {
                    v[i * cols + c] = t[i * cols + c] / sigma[i];
                }
            }
        }
        return java.util.Arrays.copyOf(sigma, cols);
    }

    /** As {@link Dense#multiply}: {@code A B} for row-major {@code A (rows x inner)}, {@code B (inner x cols)}. */
    static double[] multiply(double[] a, int rows, int inner, double[] b, int cols) {
        if ((long) rows * inner * cols < MIN_WORK) {
            return Dense.multiply(a, rows, inner, b, cols);
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Native.toDoubles(Native.create(a, rows, inner, DataType.DOUBLE, 'c')
                    .mmul(Native.create(b, inner, cols, DataType.DOUBLE, 'c')));
        }
    }
}
