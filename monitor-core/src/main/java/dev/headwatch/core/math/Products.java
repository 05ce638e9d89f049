package dev.headwatch.core.math;

/** Dense products of row-major {@code double[]} matrices, in Java, for the core outside this package. */
public final class Products {

    private Products() {
    }

    /**
     * Whether these products run on the JDK's vector API: true when the JVM was started with
     * {@code --add-modules jdk.incubator.vector} (and {@code -Dheadwatch.vector=false} is not set). The values
     * are the same bits either way; only the speed differs.
     */
    public static boolean vectorised() {
        return Dense.VECTOR;
    }

    /**
     * {@code A B} for row-major {@code A (rows x inner)} and {@code B (inner x cols)}: row-major
     * {@code rows x cols}, each entry summing its terms in order of {@code inner}.
     */
    public static double[] multiply(double[] a, int rows, int inner, double[] b, int cols) {
        return Dense.multiply(a, rows, inner, b, cols);
    }

    /** {@code A B^T} for row-major {@code A (rows x inner)} and {@code B (cols x inner)}: row-major {@code rows x cols}. */
    public static double[] multiplyByTranspose(double[] a, int rows, int inner, double[] b, int cols) {
        return Dense.multiplyByTranspose(a, rows, inner, b, cols);
    }

    /** As above, with B's rows starting at {@code b[bFrom]}: a block of rows of a larger B, read in place. */
    public static double[] multiplyByTranspose(double[] a, int rows, int inner, double[] b, int bFrom, int cols) {
        return Dense.multiplyByTranspose(a, rows, inner, b, bFrom, cols);
    }

    /** As above, into the first {@code rows x cols} entries of out; returns out. */
    public static double[] multiplyByTranspose(double[] a, int rows, int inner, double[] b, int bFrom, int cols,
                                               double[] out) {
        return Dense.multiplyByTranspose(a, rows, inner, b, bFrom, cols, out, 0);
    }
}
