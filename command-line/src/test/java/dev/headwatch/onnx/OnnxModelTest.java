package dev.headwatch.onnx;

import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.checkpoint.CheckpointAnalyzer;
import dev.headwatch.checkpoint.HeadResult;
import dev.headwatch.checkpoint.LayerResult;
import dev.headwatch.cli.Headwatch;
import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.LayerMetrics;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.WeightAnalysis;
import dev.headwatch.core.WeightLayerMetrics;
import dev.headwatch.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The ONNX path against an independent computation. {@code tiny_bert.onnx} and its weights ({@code *.npy}) were
 * written by {@code make_tiny_bert.py} beside them: the test rebuilds the encoder's q, k, v from the .npy weights
 * in double precision (embedding lookup, projections with biases, masked softmax attention, output projection,
 * residual) and hands them to monitor-core itself; the ONNX path must give the same numbers from what ONNX Runtime
 * computed.
 */
class OnnxModelTest {

    private static final int D = 8;
    private static final int HEADS = 2;
    private static final int HS = 4;
    private static final double[] TAU = {0.5, 0.5};   // layer 0 divides by 2, layer 1 multiplies by 0.5
    private static final long[][] IDS = {{1, 5, 7, 3, 2, 9}, {4, 4, 8, 1, 0, 0}};
    private static final long[][] MASK = {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}};

    @TempDir
    Path dir;

    private static Path resource(String name) {
        try {
            return Path.of(OnnxModelTest.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double[] npy(String name) {
        return Npy.read(resource(name + ".npy")).castTo(DataType.DOUBLE).data().asDouble();
    }

    private static CheckpointAnalysis analyze(TokenProbe probe) {
        return OnnxModel.read(resource("tiny_bert.onnx")).analyze(probe, CheckpointAnalyzer.builder().build());
    }

    private static TokenProbe probe() {
        return TokenProbe.of(Nd4j.createFromArray(IDS), Nd4j.createFromArray(MASK), 32, "test");
    }

    /** x [T, D] row-major times W [D, D] row-major plus b. */
    private static double[] affine(double[] x, int t, double[] w, double[] b) {
        double[] y = new double[t * D];
        for (int i = 0; i < t; i++) {
            for (int c = 0; c < D; c++) {
                double s = b[c];
                for (int k = 0; k < D; k++) {
                    s += x[i * D + k] * w[k * D + c];
                }
                y[i * D + c] = s;
            }
        }
        return y;
    }

    private static double[] head(double[] a, int t, int h) {
        double[] out = new double[t * HS];
        for (int i = 0; i < t; i++) {
            System.arraycopy(a, i * D + h * HS, out, i * HS, HS);
        }
        return out;
    }

    /**
     * Per layer, per sequence, per head: the independent q, k, v (double), as monitor-core's inputs.
     */
    private static List<List<List<HeadInput>>> independentInputs() {
        double[] emb = npy("emb");
        List<List<List<HeadInput>>> layers = new ArrayList<>();
        double[][] x = new double[IDS.length][];
        for (int b = 0; b < IDS.length; b++) {
            x[b] = new double[IDS[b].length * D];
            for (int i = 0; i < IDS[b].length; i++) {
                System.arraycopy(emb, (int) IDS[b][i] * D, x[b], i * D, D);
            }
        }
        for (int l = 0; l < 2; l++) {
            List<List<HeadInput>> sequences = new ArrayList<>();
            for (int b = 0; b < IDS.length; b++) {
                int t = IDS[b].length;
                int len = (int) java.util.Arrays.stream(MASK[b]).sum();
                double[] q = affine(x[b], t, npy("l" + l + "_wq"), npy("l" + l + "_bq"));
                double[] k = affine(x[b], t, npy("l" + l + "_wk"), npy("l" + l + "_bk"));
                double[] v = affine(x[b], t, npy("l" + l + "_wv"), npy("l" + l + "_bv"));
                double[] ctx = new double[t * D];
                List<HeadInput> heads = new ArrayList<>();
                for (int h = 0; h < HEADS; h++) {
                    heads.add(HeadInput.of(head(q, t, h), head(k, t, h), head(v, t, h), HS, DataType.FLOAT,
                            len == t ? Visibility.FULL : Visibility.padded(len), TAU[l]));
                    for (int i = 0; i < t; i++) {       // softmax over the unmasked keys
                        double[] s = new double[len];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < len; j++) {
                            for (int c = 0; c < HS; c++) {
                                s[j] += TAU[l] * q[i * D + h * HS + c] * k[j * D + h * HS + c];
                            }
                            max = Math.max(max, s[j]);
                        }
                        double z = 0;
                        for (int j = 0; j < len; j++) {
                            s[j] = Math.exp(s[j] - max);
                            z += s[j];
                        }
                        for (int j = 0; j < len; j++) {
                            for (int c = 0; c < HS; c++) {
                                ctx[i * D + h * HS + c] += s[j] / z * v[j * D + h * HS + c];
                            }
                        }
                    }
                }
                double[] out = affine(ctx, t, npy("l" + l + "_wo"), npy("l" + l + "_bo"));
                for (int i = 0; i < out.length; i++) {
                    out[i] += x[b][i];
                }
                x[b] = out;
                sequences.add(heads);
            }
            layers.add(sequences);
        }
        return layers;
    }

    /** Wq or Wk of a layer as [heads, hs, nIn] from the .npy [nIn, heads*hs] (applied as x W). */
    private static org.nd4j.linalg.api.ndarray.INDArray perHead(String name) {
        return Nd4j.create(npy(name), new long[] {D, HEADS, HS}, 'c').permute(1, 2, 0).dup('c');
    }

    @Test
    void analyze_tinyBert_everyMetricEqualsCoreAnalysisOfIndependentQkv() {
        CheckpointAnalysis report = analyze(probe());
        List<LayerResult> layers = report.checkpoints().get(0).layers();
        assertThat(layers).extracting(LayerResult::layer).containsExactly("l0_attn", "l1_attn");
        List<List<List<HeadInput>>> expected = independentInputs();
        for (int l = 0; l < 2; l++) {
            LayerResult layer = layers.get(l);
            List<List<HeadMetrics>> perHead = List.of(new ArrayList<>(), new ArrayList<>());
            double[][] corr = new double[HEADS][HEADS];
            for (List<HeadInput> sequence : expected.get(l)) {
                LayerMetrics lm = LayerAnalysis.compute(sequence);
                for (int h = 0; h < HEADS; h++) {
                    perHead.get(h).add(lm.heads().get(h));
                    for (int g = 0; g < HEADS; g++) {
                        corr[h][g] += lm.energyCorrelation()[h][g] / IDS.length;
                    }
                }
            }
            WeightLayerMetrics w = WeightAnalysis.compute(perHead("l" + l + "_wq"), perHead("l" + l + "_wk"), TAU[l]);
            for (int h = 0; h < HEADS; h++) {
                HeadResult r = layer.heads().get(h);
                HeadMetrics want = HeadMetrics.aggregate(perHead.get(h));
                for (HeadField f : HeadField.values()) {
                    double got = r.metrics().get(f);
                    if (f == HeadField.RECONSTRUCTION_ERROR) {
                        assertThat(got).as("layer %d head %d %s", l, h, f).isLessThan(1e-6);
                    } else if (f.isInteger()) {
                        assertThat(got).as("layer %d head %d %s", l, h, f).isEqualTo(want.get(f));
                    } else {
                        assertThat(got).as("layer %d head %d %s", l, h, f)
                                .isCloseTo(want.get(f), within(1e-4 * Math.max(1, Math.abs(want.get(f)))));
                    }
                }
                assertThat(r.weights().qkSpectralNorm()).isCloseTo(w.heads().get(h).qkSpectralNorm(), within(1e-5));
                assertThat(r.weights().qkStableRank()).isCloseTo(w.heads().get(h).qkStableRank(), within(1e-5));
                assertThat(r.n()).isEqualTo(6);
                assertThat(r.d()).isEqualTo(HS);
                for (int g = 0; g < HEADS; g++) {
                    assertThat(layer.qkOverlap()[h][g]).isCloseTo(w.qkOverlap()[h][g], within(1e-6));
                    assertThat(layer.energyCorrelation()[h][g]).isCloseTo(corr[h][g], within(1e-4));
                }
            }
        }
    }

    @Test
    void analyze_withoutProbe_givesWeightMetricsOnly() {
        CheckpointAnalysis report = analyze(null);
        assertThat(report.probe()).isNull();
        for (LayerResult l : report.checkpoints().get(0).layers()) {
            assertThat(l.heads()).hasSize(HEADS).allSatisfy(h -> {
                assertThat(h.metrics()).isNull();
                assertThat(h.weights().qkSpectralNorm()).isPositive();
            });
        }
    }

    @Test
    void fromText_usesTheTokenizerBesideTheModel() throws IOException {
        Path model = dir.resolve("tiny_bert.onnx");
        Files.copy(resource("tiny_bert.onnx"), model);
        Files.copy(resource("tiny_bert-tokenizer.json"), dir.resolve("tiny_bert-tokenizer.json"));
        TokenProbe probe = TokenProbe.fromText(model, List.of("The cat sat on a mat", "dog ran"));
        assertThat(probe.ids()).isEqualTo(new long[][] {{1, 2, 3, 4, 5, 6}, {7, 8, 0, 0, 0, 0}});
        assertThat(probe.tokens(0)).isEqualTo(6);
        assertThat(probe.tokens(1)).isEqualTo(2);
        CheckpointAnalysis report = OnnxModel.read(model).analyze(probe, CheckpointAnalyzer.builder().build());
        HeadResult h = report.checkpoints().get(0).layers().get(1).heads().get(0);
        assertThat(h.metrics().get(HeadField.RECONSTRUCTION_ERROR)).isLessThan(1e-6);
    }

    @Test
    void fromText_withoutTokenizer_saysWhereItLooked() throws IOException {
        Path model = dir.resolve("m.onnx");
        Files.copy(resource("tiny_bert.onnx"), model);
        assertThatThrownBy(() -> TokenProbe.fromText(model, List.of("the cat")))
                .hasMessageContaining("m-tokenizer.json or tokenizer.json");
    }

    @Test
    void read_noAttention_givesOneLineReason() {
        assertThatThrownBy(() -> OnnxModel.read(resource("no_attention.onnx")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no readable attention: the graph has no Softmax")
                .hasMessageNotContaining("\n");
    }

    @Test
    void read_corruptOrTruncatedFiles_areRejectedWithOneLine() throws IOException {
        byte[] model = Files.readAllBytes(resource("tiny_bert.onnx"));
        java.util.Random random = new java.util.Random(18);
        for (int trial = 0; trial < 200; trial++) {
            byte[] bad = trial < 100 ? java.util.Arrays.copyOf(model, random.nextInt(model.length))
                    : model.clone();
            if (trial >= 100) {
                for (int i = 0; i < 8; i++) {
                    bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
                }
            }
            Path f = dir.resolve("bad" + trial + ".onnx");
            Files.write(f, bad);
            try {                           // a flipped byte inside a weight leaves a valid model
                OnnxModel.read(f).analyze(null, CheckpointAnalyzer.builder().build());
            } catch (IllegalArgumentException e) {
                assertThat(e.getMessage()).startsWith(f.toString()).doesNotContain("\n");
            }
        }
        Path text = dir.resolve("text.onnx");
        Files.writeString(text, "not a model at all");
        assertThatThrownBy(() -> OnnxModel.read(text)).hasMessageStartingWith(text + ": not an ONNX model");
    }

    @Test
    void tokenProbe_maskWithAHole_isRejected() {
        assertThatThrownBy(() -> TokenProbe.of(Nd4j.createFromArray(new long[][] {{1, 2, 3}}),
                Nd4j.createFromArray(new long[][] {{1, 0, 1}}), 8, "x"))
                .hasMessageContaining("mask row 0 is not ones followed by zeros");
    }

    @Test
    void cli_analyzeOnnxWithIds_writesTheReport_andNoAttentionExitsWithOneLine() throws IOException {
        Path ids = dir.resolve("ids.npy");
        Files.write(ids, npyInt64(IDS));
        Path out = dir.resolve("report");
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = Headwatch.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        assertThat(cl.execute("analyze", resource("tiny_bert.onnx").toString(), "--input", ids.toString(),
                "--out", out.toString())).isZero();
        assertThat(Files.readString(out.resolve("report.json"))).contains("\"reconstructionError\"", "l1_attn");
        assertThat(err.toString()).isEmpty();

        StringWriter err2 = new StringWriter();
        picocli.CommandLine cl2 = Headwatch.commandLine();
        cl2.setErr(new PrintWriter(err2, true));
        assertThat(cl2.execute("analyze", resource("no_attention.onnx").toString(), "--out", out.toString()))
                .isEqualTo(Headwatch.EXIT_BAD_INPUT);
        assertThat(err2.toString().strip().lines()).hasSize(1).first().asString().contains("no readable attention");
    }

    /** A version 1.0 .npy file of int64 values. */
    private static byte[] npyInt64(long[][] v) {
        String dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (" + v.length + ", " + v[0].length + "), }";
        int total = (10 + dict.length() + 1 + 63) / 64 * 64;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(total + v.length * v[0].length * 8)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) (total - 10));
        b.put(dict.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        for (long[] row : v) {
            for (long x : row) {
                b.putLong(x);
            }
        }
        return b.array();
    }
}
