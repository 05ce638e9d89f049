package dev.headwatch.onnx;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Probe sequences for a pretrained model: token ids {@code [B, T]} and an attention mask of ones followed by
 * zeros per sequence (the tokens, then padding). Sequence b is measured on its first {@link #tokens(int)}
 * positions ({@code PADDED} visibility when that is fewer than T). Immutable.
 */
public final class TokenProbe {

    private final long[][] ids;
    private final long[][] masks;
    private final int[] tokens;
    private final String description;

    private TokenProbe(long[][] ids, long[][] masks, String description) {
        if (ids.length == 0 || ids[0].length == 0) {
            throw new IllegalArgumentException("the probe holds no tokens (shape [" + ids.length + ", "
                    + (ids.length == 0 ? 0 : ids[0].length) + "])");
        }
        this.ids = ids;
        this.masks = masks;
        this.tokens = new int[ids.length];
        for (int b = 0; b < ids.length; b++) {
            int len = 0;
            while (len < masks[b].length && masks[b][len] == 1) {
                len++;
            }
            for (int i = len; i < masks[b].length; i++) {
                if (masks[b][i] != 0) {
                    throw new IllegalArgumentException("mask row " + b + " is not ones followed by zeros (value "
                            + masks[b][i] + " at position " + i + ")");
                }
            }
            if (len == 0) {
                throw new IllegalArgumentException("mask row " + b + " has no token");
            }
            tokens[b] = len;
        }
        this.description = description;
    }

    /**
     * Token ids from an array {@code [B, T]} (e.g. {@link dev.headwatch.io.Npy#readIntegers}), at most
     * {@code maxSequences} of its rows.
     *
     * @param mask {@code [B, T]} of ones then zeros per row, or null for all ones
     * @throws IllegalArgumentException naming the shapes when they are not {@code [B, T]} and equal
     */
    public static TokenProbe of(INDArray ids, INDArray mask, int maxSequences, String description) {
        if (ids.rank() != 2) {
            throw new IllegalArgumentException("token ids must be [batch, T] but have shape "
                    + java.util.Arrays.toString(ids.shape()));
        }
        if (mask != null && !java.util.Arrays.equals(mask.shape(), ids.shape())) {
            throw new IllegalArgumentException("the mask has shape " + java.util.Arrays.toString(mask.shape())
                    + " but the token ids " + java.util.Arrays.toString(ids.shape()));
        }
        int b = (int) Math.min(ids.size(0), maxSequences);
        int t = (int) ids.size(1);
        long[][] id = new long[b][t];
        long[][] m = new long[b][t];
        for (int r = 0; r < b; r++) {
            for (int c = 0; c < t; c++) {
                id[r][c] = ids.getLong(r, c);
                m[r][c] = mask == null ? 1 : mask.getLong(r, c);
            }
        }
        return new TokenProbe(id, m, description);
    }

    /**
     * Texts through the model's own tokenizer: {@code <model>-tokenizer.json} or {@code tokenizer.json} beside the
     * model file (Hugging Face format), with its special tokens; shorter texts are padded.
     *
     * @throws IllegalArgumentException when there is no tokenizer beside the model or it cannot be read
     */
    public static TokenProbe fromText(Path model, List<String> texts) {
        Path dir = model.toAbsolutePath().getParent();
        String name = model.getFileName().toString();
        String stem = name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
        Path tokenizer = dir.resolve(stem + "-tokenizer.json");
        if (!Files.isRegularFile(tokenizer)) {
            tokenizer = dir.resolve("tokenizer.json");
        }
        if (!Files.isRegularFile(tokenizer)) {
            throw new IllegalArgumentException(model + ": --text needs the model's tokenizer beside it, as "
                    + stem + "-tokenizer.json or tokenizer.json in " + dir);
        }
        // The tokenizer's native library ships inside its jar; offline mode keeps DJL from fetching another
        // flavour (e.g. a CUDA build), and its notes on platform detection stay out of the command's output.
        System.getProperties().putIfAbsent("ai.djl.offline", "true");
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.ai.djl", "error");
        Encoding[] encodings;
        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(tokenizer)) {
            encodings = new Encoding[texts.size()];
            for (int i = 0; i < encodings.length; i++) {
                encodings[i] = t.encode(texts.get(i));
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(tokenizer + ": cannot tokenize (" + e.getMessage() + ")");
        }
        int t = 0;
        for (Encoding e : encodings) {
            t = Math.max(t, e.getIds().length);
        }
        long[][] ids = new long[encodings.length][t];
        long[][] masks = new long[encodings.length][t];
        for (int b = 0; b < encodings.length; b++) {
            // the tokenizer's own mask: a tokenizer.json that pads (e.g. to 128) marks its padding there
            long[] e = encodings[b].getIds();
            System.arraycopy(e, 0, ids[b], 0, e.length);
            System.arraycopy(encodings[b].getAttentionMask(), 0, masks[b], 0, e.length);
        }
        return new TokenProbe(ids, masks, texts.size() + " text(s) through " + tokenizer.getFileName() + ", "
                + t + " tokens at most");
    }

    /** Number of sequences B. */
    public int sequences() {
        return ids.length;
    }

    /** Positions per sequence T, padding included. */
    public int length() {
        return ids[0].length;
    }

    /** Tokens of sequence b (the ones of its mask). */
    public int tokens(int b) {
        return tokens[b];
    }

    /** What the report says the probe was. */
    public String description() {
        return description;
    }

    long[][] ids() {
        return ids;
    }

    long[][] masks() {
        return masks;
    }
}
