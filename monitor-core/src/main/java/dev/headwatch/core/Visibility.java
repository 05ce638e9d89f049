package dev.headwatch.core;

/**
 * Which keys each query row may attend to (METRICS.md, "Inputs").
 *
 * <ul>
 *   <li>{@link Kind#FULL}: every row sees every key.</li>
 *   <li>{@link Kind#CAUSAL}: row i sees keys j &lt;= i.</li>
 *   <li>{@link Kind#PADDED}: only the first {@code length} positions exist; row i &lt; length
 *       sees keys j &lt; length.</li>
 * </ul>
 *
 * @param kind   the visibility pattern
 * @param length the number of visible positions for {@code PADDED}; 0 otherwise
 */
public record Visibility(Kind kind, int length) {

    /** The visibility patterns. */
    public enum Kind { FULL, CAUSAL, PADDED }

    public static final Visibility FULL = new Visibility(Kind.FULL, 0);
    public static final Visibility CAUSAL = new Visibility(Kind.CAUSAL, 0);

    public Visibility {
        if (kind == null) {
            throw new IllegalArgumentException("visibility kind must not be null");
        }
        if (kind == Kind.PADDED && length < 1) {
            throw new IllegalArgumentException("padded length must be >= 1 but was " + length);
        }
        if (kind != Kind.PADDED && length != 0) {
            throw new IllegalArgumentException(kind + " visibility takes no length but got " + length);
        }
    }

    /** The first {@code length} positions visible, the rest padding. */
    public static Visibility padded(int length) {
        return new Visibility(Kind.PADDED, length);
    }

    /** The label used in every output: {@code full}, {@code causal} or {@code padded}. */
    public String label() {
        return kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
