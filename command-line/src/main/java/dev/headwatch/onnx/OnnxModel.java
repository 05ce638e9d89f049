package dev.headwatch.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.checkpoint.CheckpointAnalyzer;
import dev.headwatch.core.LayerCapture;
import dev.headwatch.core.WeightAnalysis;
import dev.headwatch.core.WeightLayerMetrics;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pretrained transformer in an ONNX file, measured by headwatch: the self-attention layers found by
 * {@link AttentionSites}, their weight-only metrics from the initializers, and with {@link TokenProbe} data
 * the per-head metrics of the queries, keys and values the model itself computes. The model is run by ONNX
 * Runtime (CPU) with each layer's projected q, k, v and attention output added as graph outputs; the heads are
 * split from them ({@code [B, T, heads*headSize]}, head h the h-th block of columns), measured by monitor-core
 * through {@link CheckpointAnalyzer#analyzeExtracted}, and {@code reconstructionError} compares
 * {@code softmax(tau q k^T) v} per head, over the sequence's tokens, with the model's attention output. Projection
 * biases are part of q and k (they are what the model attends with) but not of the weight-only {@code M_h}.
 */
public final class OnnxModel {

    /** The file format the report shows. */
    public static final String FORMAT = "ONNX";
    /** The layer kind the report shows. */
    public static final String KIND = "ONNX_SELF_ATTENTION";

    private final Path file;
    private final OnnxGraph graph;
    private final List<AttentionSites.Site> sites;

    private OnnxModel(Path file, OnnxGraph graph, List<AttentionSites.Site> sites) {
        this.file = file;
        this.graph = graph;
        this.sites = sites;
    }

    /**
     * Reads a model and finds its attention layers.
     *
     * @throws IllegalArgumentException with a one-line reason when the file cannot be read, is not an ONNX model,
     *                                  or has no attention layer headwatch can read
     */
    public static OnnxModel read(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(file + ": " + size + " bytes is more than an ONNX model can hold (2 GiB)");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")");
        }
        OnnxGraph graph;
        try {
            graph = OnnxGraph.parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": not an ONNX model: " + e.getMessage());
        }
        AttentionSites.Found found = AttentionSites.find(graph);
        for (AttentionSites.Site s : found.sites()) {
            long width = (long) s.heads() * s.headSize();
            if (s.wq().dims()[1] != width || s.wk().dims()[1] != width) {
                throw new IllegalArgumentException(file + ": layer " + s.name() + " splits into " + s.heads() + " heads of "
                        + s.headSize() + " but its projections are " + java.util.Arrays.toString(s.wq().dims()) + " and "
                        + java.util.Arrays.toString(s.wk().dims()));
            }
        }
        if (found.sites().isEmpty()) {
            throw new IllegalArgumentException(file + ": no readable attention: " + (found.problems().isEmpty()
                    ? "the graph has no Softmax" : found.problems().get(0)));
        }
        return new OnnxModel(file, graph, found.sites());
    }

    /** The attention layers, in graph order. */
    public List<String> layers() {
        return sites.stream().map(AttentionSites.Site::name).toList();
    }

    /**
     * Every head's metrics: weight-only without a probe, every metric with one.
     *
     * @param probe    token ids and masks, or null for weight-only metrics
     * @param analyzer the analyzer whose alert rules, plot setting and clock the report uses
     * @throws IllegalArgumentException with a one-line reason when the probe does not fit the model or the run fails
     */
    public CheckpointAnalysis analyze(TokenProbe probe, CheckpointAnalyzer analyzer) {
        WeightLayerMetrics[] weights;
        try {
            weights = sites.parallelStream().map(OnnxModel::weights).toArray(WeightLayerMetrics[]::new);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IllegalArgumentException(file + ": cannot read the projection weights (" + e.getMessage() + ")");
        }
        Map<String, float[]> outputs = probe == null ? Map.of() : run(probe);
        List<CheckpointAnalyzer.ExtractedLayer> layers = new ArrayList<>();
        for (int i = 0; i < sites.size(); i++) {
            AttentionSites.Site s = sites.get(i);
            layers.add(new CheckpointAnalyzer.ExtractedLayer(s.name(), KIND, s.heads(), s.headSize(), weights[i],
                    probe == null ? null : capture(s, probe, outputs)));
        }
        return analyzer.analyzeExtracted(file, FORMAT, probe == null ? null : probe.description(), layers);
    }

    /** {@code W [nIn, heads*hs]} applied as {@code x W}: head h's {@code [hs, nIn]} is the transpose of its columns. */
    private static WeightLayerMetrics weights(AttentionSites.Site s) {
        return WeightAnalysis.compute(heads(s.wq(), s), heads(s.wk(), s), s.scale());
    }

    private static INDArray heads(OnnxGraph.Tensor w, AttentionSites.Site s) {
        double[] v = w.values();
        int nIn = (int) w.dims()[0];
        int width = (int) w.dims()[1];
        int hs = s.headSize();
        double[] out = new double[v.length];
        for (int h = 0; h < s.heads(); h++) {
            for (int r = 0; r < hs; r++) {
                for (int c = 0; c < nIn; c++) {
                    out[(h * hs + r) * nIn + c] = v[c * width + h * hs + r];
                }
            }
        }
        return Nd4j.create(out, new long[] {s.heads(), hs, nIn}, 'c');
    }

    /**
     * One layer on the probe sequences: q, k, v per head side by side and the attention output before the output
     * projection, which the core rebuilds from them ({@code reconstructionError}).
     */
    private static LayerCapture capture(AttentionSites.Site s, TokenProbe probe, Map<String, float[]> outputs) {
        int t = probe.length();
        int width = s.heads() * s.headSize();
        float[][] qkvo = {outputs.get(s.q()), outputs.get(s.k()), outputs.get(s.v()), outputs.get(s.context())};
        for (float[] a : qkvo) {
            if (a.length != (long) probe.sequences() * t * width) {
                throw new IllegalArgumentException(s.name() + ": the model computed " + a.length + " values where "
                        + probe.sequences() + " x " + t + " x " + width + " were expected");
            }
        }
        List<LayerCapture.Sequence> sequences = new ArrayList<>();
        for (int b = 0; b < probe.sequences(); b++) {
            double[][] rows = new double[4][t * width];
            for (int m = 0; m < 4; m++) {
                for (int i = 0; i < t * width; i++) {
                    rows[m][i] = qkvo[m][b * t * width + i];
                }
            }
            boolean[] tokens = new boolean[t];
            java.util.Arrays.fill(tokens, 0, probe.tokens(b), true);
            sequences.add(new LayerCapture.Sequence(t, rows[0], t, rows[1], rows[2], rows[3], tokens, tokens));
        }
        return new LayerCapture(s.name(), s.heads(), s.headSize(), s.scale(), false, false, null, null, sequences);
    }

    /** Runs the model on the probe with every layer's q, k, v and attention output as extra graph outputs. */
    private Map<String, float[]> run(TokenProbe probe) {
        List<String> wanted = new ArrayList<>();
        for (AttentionSites.Site s : sites) {
            wanted.addAll(List.of(s.q(), s.k(), s.v(), s.context()));
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            // Basic optimisations only: the graph stays the one in the file (no fused attention).
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
            try (OrtSession session = env.createSession(graph.withOutputs(wanted), options)) {
                Map<String, OnnxTensor> inputs = inputs(env, session, probe);
                try (OrtSession.Result result = session.run(inputs, new java.util.LinkedHashSet<>(wanted))) {
                    Map<String, float[]> out = new HashMap<>();
                    for (String name : wanted) {
                        OnnxValue v = result.get(name).orElseThrow();
                        if (!(v instanceof OnnxTensor tensor) || ((TensorInfo) tensor.getInfo()).type != OnnxJavaType.FLOAT) {
                            throw new IllegalArgumentException(name + " is not a float tensor");
                        }
                        FloatBuffer fb = tensor.getFloatBuffer();
                        float[] a = new float[fb.remaining()];
                        fb.get(a);
                        out.put(name, a);
                    }
                    return out;
                } finally {
                    inputs.values().forEach(OnnxTensor::close);
                }
            }
        } catch (OrtException e) {
            throw new IllegalArgumentException(file + ": ONNX Runtime cannot run the model on the probe ("
                    + e.getMessage().replaceAll("\\s+", " ") + ")");
        }
    }

    /**
     * The model's inputs from the probe by name: ids ({@code input_ids}, or the only other input), the mask
     * ({@code attention_mask}) and zeros for {@code token_type_ids}, as int64 or int32 as the model declares.
     */
    private Map<String, OnnxTensor> inputs(OrtEnvironment env, OrtSession session, TokenProbe probe) throws OrtException {
        Map<String, NodeInfo> info = session.getInputInfo();
        Map<String, long[][]> values = new LinkedHashMap<>();
        List<String> other = new ArrayList<>();
        for (String name : info.keySet()) {
            switch (name) {
                case "attention_mask" -> values.put(name, probe.masks());
                case "token_type_ids" -> values.put(name, new long[probe.sequences()][probe.length()]);
                case "input_ids" -> values.put(name, probe.ids());
                default -> other.add(name);
            }
        }
        if (!values.containsKey("input_ids") && other.size() == 1) {
            values.put(other.remove(0), probe.ids());
        }
        if (!other.isEmpty() || values.values().stream().noneMatch(v -> v == probe.ids())) {
            throw new IllegalArgumentException(file + ": cannot feed token ids to the model's inputs " + info.keySet()
                    + " (expected input_ids, attention_mask, token_type_ids)");
        }
        Map<String, OnnxTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[][]> e : values.entrySet()) {
            NodeInfo n = info.get(e.getKey());
            OnnxJavaType type = n.getInfo() instanceof TensorInfo ti ? ti.type : OnnxJavaType.INT64;
            if (type == OnnxJavaType.INT32) {
                int[][] ints = new int[e.getValue().length][];
                for (int b = 0; b < ints.length; b++) {
                    ints[b] = java.util.Arrays.stream(e.getValue()[b]).mapToInt(Math::toIntExact).toArray();
                }
                out.put(e.getKey(), OnnxTensor.createTensor(env, ints));
            } else if (type == OnnxJavaType.INT64) {
                out.put(e.getKey(), OnnxTensor.createTensor(env, e.getValue()));
            } else {
                out.values().forEach(OnnxTensor::close);
                throw new IllegalArgumentException(file + ": input " + e.getKey() + " is " + type
                        + ", not int32 or int64 token ids");
            }
        }
        return out;
    }
}
