package dev.headwatch.examples.demo;

import java.util.Map;
import java.util.SplittableRandom;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * A GPT-style decoder-only transformer in SameDiff, written out op by op so that every attention head's
 * queries, keys and values are named variables a monitor can read.
 *
 * <p>Per block {@code l}: pre-layer-norm causal multi-head self-attention with explicit projections
 * {@code layer<l>/Wq, Wk, Wv, Wo} ({@code [dModel, dModel]}), then a GELU MLP of width {@code 4 dModel},
 * each with a residual connection. Token embeddings come from a one-hot input times {@code wte};
 * positions are fixed sinusoids, so a trained model can be rebuilt for any context length.
 *
 * <p>Named variables per block, batch first:
 * <ul>
 *   <li>{@code layer<l>/q}, {@code layer<l>/k}, {@code layer<l>/v}: {@code [batch, heads, T, headDim]}</li>
 *   <li>{@code layer<l>/logits}: {@code tau q k^T} plus the causal mask, {@code [batch, heads, T, T]},
 *       {@code tau = 1/sqrt(headDim)}</li>
 *   <li>{@code layer<l>/attention}: softmax of the logits over keys</li>
 *   <li>{@code layer<l>/out}: each head's output {@code softmax(logits) v} before {@code Wo}:
 *       {@code [batch, heads, T, headDim]}</li>
 * </ul>
 * Placeholders: {@code input} one-hot {@code [batch, T, vocab]}, {@code label} one-hot next tokens
 * {@code [batch * T, vocab]}; the loss is {@code loss} (mean cross-entropy in nats).
 */
public final class TinyGpt {

    public static final String INPUT = "input";
    public static final String LABEL = "label";
    public static final String LOSS = "loss";
    public static final String LOGITS = "logits";

    /** Added to masked logits; exp of it underflows to exactly 0 in float32. */
    static final double MASKED = -1e9;

    private TinyGpt() {
    }

    /** Name of block {@code layer} in every monitor output, e.g. {@code layer0}. */
    public static String layerName(int layer) {
        return "layer" + layer;
    }

    /** Name of a per-block variable, e.g. {@code var(0, "q")} is {@code layer0/q}. */
    public static String var(int layer, String name) {
        return "layer" + layer + "/" + name;
    }

    /** A freshly initialised model (seeded), with Adam at the given learning rate. */
    public static SameDiff build(GptConfig c, long seed, double learningRate) {
        SameDiff sd = graph(c, initialWeights(c, seed));
        sd.setTrainingConfig(TrainingConfig.builder()
                .updater(new Adam(learningRate))
                .dataSetFeatureMapping(INPUT)
                .dataSetLabelMapping(LABEL)
                .build());
        return sd;
    }

    /** The same model, weights copied, built for another context length (inference only). */
    public static SameDiff rebuild(SameDiff trained, GptConfig c) {
        Map<String, INDArray> weights = new java.util.HashMap<>();
        for (SDVariable v : trained.variables()) {
            if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE) {
                weights.put(v.name(), v.getArr().dup());
            }
        }
        return graph(c, weights);
    }

    static Map<String, INDArray> initialWeights(GptConfig c, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int d = c.dModel();
        Map<String, INDArray> w = new java.util.LinkedHashMap<>();
        w.put("wte", gaussian(rnd, 1.0, c.vocab(), d));
        double proj = 1.0 / Math.sqrt(d);
        // GPT-2 scales the projections into the residual stream down with depth.
        double residual = proj / Math.sqrt(2.0 * c.layers());
        for (int l = 0; l < c.layers(); l++) {
            w.put(var(l, "ln1_gain"), Nd4j.ones(DataType.FLOAT, d));
            w.put(var(l, "ln1_bias"), Nd4j.zeros(DataType.FLOAT, d));
            w.put(var(l, "Wq"), gaussian(rnd, proj, d, d));
            w.put(var(l, "Wk"), gaussian(rnd, proj, d, d));
            w.put(var(l, "Wv"), gaussian(rnd, proj, d, d));
            w.put(var(l, "Wo"), gaussian(rnd, residual, d, d));
            w.put(var(l, "ln2_gain"), Nd4j.ones(DataType.FLOAT, d));
            w.put(var(l, "ln2_bias"), Nd4j.zeros(DataType.FLOAT, d));
            w.put(var(l, "W1"), gaussian(rnd, proj, d, 4 * d));
            w.put(var(l, "b1"), Nd4j.zeros(DataType.FLOAT, 4 * d));
            w.put(var(l, "W2"), gaussian(rnd, residual / 2, 4 * d, d));
            w.put(var(l, "b2"), Nd4j.zeros(DataType.FLOAT, d));
        }
        w.put("lnf_gain", Nd4j.ones(DataType.FLOAT, d));
        w.put("lnf_bias", Nd4j.zeros(DataType.FLOAT, d));
        w.put("Wout", gaussian(rnd, proj, d, c.vocab()));
        w.put("bout", Nd4j.zeros(DataType.FLOAT, c.vocab()));
        return w;
    }

    private static SameDiff graph(GptConfig c, Map<String, INDArray> w) {
        int t = c.context();
        int d = c.dModel();
        int h = c.heads();
        int hd = c.headDim();
        SameDiff sd = SameDiff.create();
        SDVariable input = sd.placeHolder(INPUT, DataType.FLOAT, -1, t, c.vocab());
        SDVariable label = sd.placeHolder(LABEL, DataType.FLOAT, -1, c.vocab());
        SDVariable wte = sd.var("wte", w.get("wte"));
        SDVariable pos = sd.constant("wpe", sinusoids(t, d).muli(0.5));
        SDVariable mask = sd.constant("causal_mask", causalMask(t));

        SDVariable x = sd.reshape(sd.mmul(sd.reshape(input, -1, c.vocab()), wte), -1, t, d).add(pos);
        double tau = 1.0 / Math.sqrt(hd);
        for (int l = 0; l < c.layers(); l++) {
            SDVariable a = sd.nn.layerNorm(x, sd.var(var(l, "ln1_gain"), w.get(var(l, "ln1_gain"))),
                    sd.var(var(l, "ln1_bias"), w.get(var(l, "ln1_bias"))), false, 2);
            SDVariable a2 = sd.reshape(a, -1, d);
            SDVariable q = heads(sd, a2, sd.var(var(l, "Wq"), w.get(var(l, "Wq"))), t, h, hd, var(l, "q"));
            SDVariable k = heads(sd, a2, sd.var(var(l, "Wk"), w.get(var(l, "Wk"))), t, h, hd, var(l, "k"));
            SDVariable v = heads(sd, a2, sd.var(var(l, "Wv"), w.get(var(l, "Wv"))), t, h, hd, var(l, "v"));
            SDVariable logits = sd.mmul(q, k, false, true, false).mul(tau).add(var(l, "logits"), mask);
            SDVariable att = sd.nn.softmax(var(l, "attention"), logits, -1);
            SDVariable o = sd.reshape(sd.permute(sd.mmul(var(l, "out"), att, v), 0, 2, 1, 3), -1, t, d);
            SDVariable wo = sd.var(var(l, "Wo"), w.get(var(l, "Wo")));
            x = x.add(sd.reshape(sd.mmul(sd.reshape(o, -1, d), wo), -1, t, d));

            SDVariable b = sd.nn.layerNorm(x, sd.var(var(l, "ln2_gain"), w.get(var(l, "ln2_gain"))),
                    sd.var(var(l, "ln2_bias"), w.get(var(l, "ln2_bias"))), false, 2);
            SDVariable hidden = sd.nn.gelu(sd.mmul(sd.reshape(b, -1, d), sd.var(var(l, "W1"), w.get(var(l, "W1"))))
                    .add(sd.var(var(l, "b1"), w.get(var(l, "b1")))));
            SDVariable mlp = sd.mmul(hidden, sd.var(var(l, "W2"), w.get(var(l, "W2"))))
                    .add(sd.var(var(l, "b2"), w.get(var(l, "b2"))));
            x = x.add(sd.reshape(mlp, -1, t, d));
        }
        SDVariable f = sd.nn.layerNorm(x, sd.var("lnf_gain", w.get("lnf_gain")), sd.var("lnf_bias", w.get("lnf_bias")),
                false, 2);
        SDVariable logits = sd.mmul(sd.reshape(f, -1, d), sd.var("Wout", w.get("Wout")))
                .add(LOGITS, sd.var("bout", w.get("bout")));
        sd.loss.softmaxCrossEntropy(LOSS, label, logits, null);
        return sd;
    }

    /** {@code x [batch*T, d] W [d, d]} split into heads: {@code [batch, heads, T, headDim]}. */
    private static SDVariable heads(SameDiff sd, SDVariable x, SDVariable weight, int t, int h, int hd, String name) {
        return sd.permute(name, sd.reshape(sd.mmul(x, weight), -1, t, h, hd), 0, 2, 1, 3);
    }

    /** 0 where key j <= query i, a large negative number above the diagonal. */
    static INDArray causalMask(int t) {
        float[][] m = new float[t][t];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                m[i][j] = (float) MASKED;
            }
        }
        return Nd4j.create(m);
    }

    /** The fixed sinusoidal position code of "Attention is all you need", {@code [T, d]}. */
    static INDArray sinusoids(int t, int d) {
        float[][] p = new float[t][d];
        for (int pos = 0; pos < t; pos++) {
            for (int i = 0; i < d; i += 2) {
                double angle = pos / Math.pow(10000, (double) i / d);
                p[pos][i] = (float) Math.sin(angle);
                if (i + 1 < d) {
                    p[pos][i + 1] = (float) Math.cos(angle);
                }
            }
        }
        return Nd4j.create(p);
    }

    private static INDArray gaussian(SplittableRandom rnd, double std, int rows, int cols) {
        float[] data = new float[rows * cols];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (std * gauss(rnd));
        }
        return Nd4j.create(data, new long[] {rows, cols}, DataType.FLOAT);
    }

    static double gauss(SplittableRandom rnd) {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
        double u = 1.0 - rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    /** One-hot features {@code [batch, T, vocab]} and next-token labels {@code [batch*T, vocab]} from windows of T+1 tokens. */
    public static MultiDataSet batch(int[][] windows, int vocab) {
        int b = windows.length;
        int t = windows[0].length - 1;
        INDArray in = Nd4j.zeros(DataType.FLOAT, b, t, vocab);
        INDArray out = Nd4j.zeros(DataType.FLOAT, (long) b * t, vocab);
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                in.putScalar(new long[] {i, j, windows[i][j]}, 1f);
                out.putScalar(new long[] {(long) i * t + j, windows[i][j + 1]}, 1f);
            }
        }
        return new MultiDataSet(in, out);
    }
}
