package dev.headwatch.core.math;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Dense}'s products on the JDK's vector API: each row of A times a block of B's columns, the block in
 * {@code 2 x LANES} columns of SIMD registers (16 doubles with AVX-512), four rows at a time. Every entry is the
 * scalar kernel's sum, term by term in order of {@code inner}, each product rounded before it is added (no fused
 * multiply-add), so both kernels give the same bits. Loaded only when {@link Dense#VECTOR} found the
 * incubating module in the JVM ({@code --add-modules jdk.incubator.vector}); nothing else refers to it.
 */
final class VectorProducts {

    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;

    /** Doubles per register: products with fewer columns stay scalar. */
    static final int LANES = S.length();

    private VectorProducts() {
    }

    /**
     * {@code A B} (or, {@code transposed}, {@code A B^T}) into {@code c} from {@code c[cFrom]} on, as
     * {@link Dense}'s kernel: A row-major {@code rows x inner} from {@code a[aFrom]}, B row-major
     * {@code inner x cols} (transposed: {@code cols x inner}) from {@code b[bFrom]}.
     */
    static double[] product(double[] a, int aFrom, int rows, int inner, double[] b, int bFrom, int cols,
                            boolean transposed, double[] c, int cFrom) {
        if (transposed) {                               // the kernel reads B by rows of cols: B^T in scratch
            b = Dense.transpose(b, bFrom, cols, inner, Dense.scratch(Dense.PRODUCT_B_TRANSPOSED, inner * cols));
            bFrom = 0;
        }
        int wide = cols - cols % (2 * LANES);
        int vectors = cols - cols % LANES;
        // the columns past the last full register: one register ending at the last column, overlapping the one
        // before it (the overlapped entries are the same sums again, so the same bits); none when they fit
        int tail = vectors == cols ? -1 : cols - LANES;
        int i = 0;
        for (; i + 3 < rows; i += 4) {
            int a0 = aFrom + i * inner;
            int o = cFrom + i * cols;
            int j = 0;
            for (; j < wide; j += 2 * LANES) {
                fourRowsWide(a, a0, inner, b, bFrom + j, cols, c, o + j);
            }
            for (; j < vectors; j += LANES) {
                fourRows(a, a0, inner, b, bFrom + j, cols, c, o + j);
            }
            if (tail >= 0) {
                fourRows(a, a0, inner, b, bFrom + tail, cols, c, o + tail);
            }
        }
        for (; i < rows; i++) {
            int a0 = aFrom + i * inner;
            int o = cFrom + i * cols;
            for (int j = 0; j < vectors; j += LANES) {
                oneRow(a, a0, inner, b, bFrom + j, cols, c, o + j);
            }
            if (tail >= 0) {
                oneRow(a, a0, inner, b, bFrom + tail, cols, c, o + tail);
            }
        }
        return c;
    }

    /** Row a0 times {@code LANES} columns of B from {@code b[b0]}. */
    private static void oneRow(double[] a, int a0, int inner, double[] b, int b0, int cols, double[] c, int o) {
        DoubleVector s = DoubleVector.zero(S);
        for (int k = 0, bk = b0; k < inner; k++, bk += cols) {
            s = DoubleVector.broadcast(S, a[a0 + k]).mul(DoubleVector.fromArray(S, b, bk)).add(s);
        }
        s.intoArray(c, o);
    }

    /** Rows a0.. (four, {@code inner} apart) times {@code 2 x LANES} columns of B from {@code b[b0]}. */
    private static void fourRowsWide(double[] a, int a0, int inner, double[] b, int b0, int cols, double[] c, int o) {
        DoubleVector c0 = DoubleVector.zero(S), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
        int a1 = a0 + inner, a2 = a1 + inner, a3 = a2 + inner;
        for (int k = 0, bk = b0; k < inner; k++, bk += cols) {
            DoubleVector y = DoubleVector.fromArray(S, b, bk);
            DoubleVector z = DoubleVector.fromArray(S, b, bk + LANES);
            DoubleVector x0 = DoubleVector.broadcast(S, a[a0 + k]);
            DoubleVector x1 = DoubleVector.broadcast(S, a[a1 + k]);
            DoubleVector x2 = DoubleVector.broadcast(S, a[a2 + k]);
            DoubleVector x3 = DoubleVector.broadcast(S, a[a3 + k]);
            c0 = x0.mul(y).add(c0);
            c1 = x1.mul(y).add(c1);
            c2 = x2.mul(y).add(c2);
            c3 = x3.mul(y).add(c3);
            d0 = x0.mul(z).add(d0);
            d1 = x1.mul(z).add(d1);
            d2 = x2.mul(z).add(d2);
            d3 = x3.mul(z).add(d3);
        }
        c0.intoArray(c, o);
        d0.intoArray(c, o + LANES);
        c1.intoArray(c, o + cols);
        d1.intoArray(c, o + cols + LANES);
        c2.intoArray(c, o + 2 * cols);
        d2.intoArray(c, o + 2 * cols + LANES);
        c3.intoArray(c, o + 3 * cols);
        d3.intoArray(c, o + 3 * cols + LANES);
    }

    /** As {@link #fourRowsWide} for {@code LANES} columns. */
    private static void fourRows(double[] a, int a0, int inner, double[] b, int b0, int cols, double[] c, int o) {
        DoubleVector c0 = DoubleVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int a1 = a0 + inner, a2 = a1 + inner, a3 = a2 + inner;
        for (int k = 0, bk = b0; k < inner; k++, bk += cols) {
            DoubleVector y = DoubleVector.fromArray(S, b, bk);
            c0 = DoubleVector.broadcast(S, a[a0 + k]).mul(y).add(c0);
            c1 = DoubleVector.broadcast(S, a[a1 + k]).mul(y).add(c1);
            c2 = DoubleVector.broadcast(S, a[a2 + k]).mul(y).add(c2);
            c3 = DoubleVector.broadcast(S, a[a3 + k]).mul(y).add(c3);
        }
        c0.intoArray(c, o);
        c1.intoArray(c, o + cols);
        c2.intoArray(c, o + 2 * cols);
        c3.intoArray(c, o + 3 * cols);
    }
}
