package dev.headwatch.examples.text;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Text as a sequence of token ids for byte-level language modelling: printable ASCII maps to
 * {@code 1..95}, every other byte to {@code 0}. Windows are drawn with a seeded random source.
 */
public final class ByteCorpus {

    /** Token ids: 0 for "other", 1..95 for the bytes 32..126. */
    public static final int VOCAB = 96;

    private final byte[] tokens;

    private ByteCorpus(byte[] tokens) {
        this.tokens = tokens;
    }

    /** Documents joined with a newline (mapped to "other"). */
    public static ByteCorpus of(List<String> documents) {
        byte[] bytes = String.join("\n", documents).getBytes(StandardCharsets.UTF_8);
        byte[] ids = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = (byte) tokenOf(bytes[i]);
        }
        return new ByteCorpus(ids);
    }

    static int tokenOf(byte b) {
        int c = b & 0xff;
        return c >= 32 && c <= 126 ? c - 31 : 0;
    }

    /** The character a token id stands for ('?' for "other"). */
    public static char charOf(int token) {
        return token == 0 ? '?' : (char) (token + 31);
    }

    public int size() {
        return tokens.length;
    }

    public int token(int i) {
        return tokens[i];
    }

    /** Corpus positions [from, to) as a new corpus. */
    public ByteCorpus slice(int from, int to) {
        if (from < 0 || to > tokens.length || from >= to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") outside corpus of " + tokens.length);
        }
        return new ByteCorpus(java.util.Arrays.copyOfRange(tokens, from, to));
    }

    /**
     * {@code batch} random windows of {@code length + 1} tokens: row b holds the window starting at a
     * uniformly drawn offset.
     */
    public int[][] windows(int batch, int length, SplittableRandom random) {
        if (length + 1 > tokens.length) {
            throw new IllegalArgumentException("window of " + (length + 1) + " tokens exceeds corpus of " + tokens.length);
        }
        int[][] out = new int[batch][length + 1];
        for (int b = 0; b < batch; b++) {
            int start = random.nextInt(tokens.length - length);
            for (int t = 0; t <= length; t++) {
                out[b][t] = tokens[start + t];
            }
        }
        return out;
    }
}
