package dev.headwatch.checkpoint;

/**
 * Bounds for reading a zip from elsewhere. An entry may inflate to at most
 * {@code max(ratioFloorBytes, maxRatio x its compressed size)} and never beyond {@code maxEntryBytes};
 * an archive may hold at most {@code maxEntries} entries. The defaults let through any real checkpoint
 * (coefficients are float arrays, which barely compress) and stop zip bombs, which inflate hundreds to thousands of
 * times.
 *
 * @param maxEntries      most entries in one archive
 * @param maxEntryBytes   most bytes one entry may inflate to
 * @param maxRatio        most inflated bytes per compressed byte above the floor
 * @param ratioFloorBytes size below which the ratio is not checked
 */
public record ZipLimits(int maxEntries, long maxEntryBytes, double maxRatio, long ratioFloorBytes) {

    /** 10,000 entries, 2 GiB per entry, ratio 100 above 64 MiB. */
    public static final ZipLimits DEFAULT = new ZipLimits(10_000, Integer.MAX_VALUE - 8L, 100, 64L << 20);

    public ZipLimits {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be >= 1 but was " + maxEntries);
        }
        if (maxEntryBytes < 1 || maxEntryBytes > Integer.MAX_VALUE - 8L) {
            throw new IllegalArgumentException("maxEntryBytes must be in [1, " + (Integer.MAX_VALUE - 8L)
                    + "] but was " + maxEntryBytes);
        }
        if (!(maxRatio >= 1)) {
            throw new IllegalArgumentException("maxRatio must be >= 1 but was " + maxRatio);
        }
        if (ratioFloorBytes < 0) {
            throw new IllegalArgumentException("ratioFloorBytes must be >= 0 but was " + ratioFloorBytes);
        }
    }

    /** The most bytes an entry of this compressed size may inflate to. */
    long boundFor(long compressedBytes) {
        double byRatio = maxRatio * Math.max(0, compressedBytes);
        return (long) Math.min(maxEntryBytes, Math.max(ratioFloorBytes, byRatio));
    }
}
