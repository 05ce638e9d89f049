package dev.headwatch.onnx;

import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.checkpoint.CheckpointAnalyzer;
import dev.headwatch.io.Npy;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** What {@code headwatch analyze MODEL.onnx} does before the report is written. */
public final class OnnxAnalyze {

    private OnnxAnalyze() {
    }

    /** Whether a path names an ONNX model (by its extension). */
    public static boolean isOnnx(Path path) {
        return path.getFileName() != null && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    /**
     * Analyses one ONNX model: weight-only metrics, or every metric on token ids ({@code ids}, an int32 or int64
     * {@code .npy} file {@code [B, T]} with an optional mask file) or on texts through the model's tokenizer.
     *
     * @throws IllegalArgumentException with a one-line reason for any bad input: a file that cannot be read, no
     *                                  readable attention, a probe that does not fit
     */
    public static CheckpointAnalysis analyze(Path model, Path ids, Path mask, List<String> texts, int maxSequences,
                                             CheckpointAnalyzer analyzer) {
        if (ids != null && !texts.isEmpty()) {
            throw new IllegalArgumentException("give token ids (--input) or texts (--text), not both");
        }
        if (mask != null && ids == null) {
            throw new IllegalArgumentException("--mask needs --input IDS.npy");
        }
        OnnxModel m = OnnxModel.read(model);
        TokenProbe probe = null;
        if (ids != null) {
            INDArray idArray = Npy.readIntegers(ids);
            probe = TokenProbe.of(idArray, mask == null ? null : Npy.readIntegers(mask), maxSequences,
                    ids.getFileName() + " " + java.util.Arrays.toString(idArray.shape()) + " token ids");
        } else if (!texts.isEmpty()) {
            probe = TokenProbe.fromText(model, texts.subList(0, Math.min(texts.size(), maxSequences)));
        }
        return m.analyze(probe, analyzer);
    }
}
