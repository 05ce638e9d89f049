package dev.headwatch.onnx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the self-attention layers of an ONNX graph by the pattern PyTorch exports BERT-like encoders with:
 * <pre>
 * q|k|v = Add(MatMul(x, W), b) -> Reshape [B, T, heads, headSize] -> Transpose
 * Softmax(Add(Div|Mul(MatMul(q, k^T), c), mask)) -> MatMul(., v) -> Transpose -> Reshape [B, T, heads*headSize]
 * </pre>
 * (the bias Add, the scale and the mask Add may each be absent; Add takes its operands in either order).
 * Each Softmax is one candidate; one that does not match is reported with the step that failed.
 */
final class AttentionSites {

    /**
     * One attention layer: the tensors to read from a run and the weights.
     *
     * @param name     the layer name (the Softmax node's name without {@code /Softmax})
     * @param q        the projected queries {@code [B, T, heads*headSize]} (before the reshape into heads)
     * @param k        the projected keys, same layout
     * @param v        the projected values, same layout
     * @param context  the attention output before the output projection, same layout
     * @param wq       the query projection initializer {@code [nIn, heads*headSize]} (applied as {@code x W})
     * @param wk       the key projection initializer
     * @param heads    number of heads
     * @param headSize head dimension
     * @param scale    logit scale tau
     */
    record Site(String name, String q, String k, String v, String context, OnnxGraph.Tensor wq, OnnxGraph.Tensor wk,
                int heads, int headSize, double scale) {
    }

    /** What discovery found: the layers, and per Softmax that is not one, why. */
    record Found(List<Site> sites, List<String> problems) {
    }

    private final OnnxGraph g;
    private final Map<String, OnnxGraph.Node> producer = new HashMap<>();
    private final Map<String, List<OnnxGraph.Node>> consumers = new HashMap<>();

    private AttentionSites(OnnxGraph g) {
        this.g = g;
        for (OnnxGraph.Node n : g.nodes) {
            n.outputs().forEach(o -> producer.put(o, n));
            n.inputs().forEach(i -> consumers.computeIfAbsent(i, x -> new ArrayList<>()).add(n));
        }
    }

    static Found find(OnnxGraph g) {
        AttentionSites s = new AttentionSites(g);
        List<Site> sites = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (OnnxGraph.Node n : g.nodes) {
            if (n.opType().equals("Softmax")) {
                try {
                    sites.add(s.site(n, sites.size()));
                } catch (NoMatch e) {
                    problems.add("Softmax " + n.name() + ": " + e.getMessage());
                }
            }
        }
        return new Found(sites, problems);
    }

    /** One step of the pattern did not match. */
    private static final class NoMatch extends Exception {
        NoMatch(String message) {
            super(message, null, false, false);
        }
    }

    private Site site(OnnxGraph.Node softmax, int index) throws NoMatch {
        OnnxGraph.Node x = producerOf(softmax.inputs().get(0));
        // the mask Add: the operand that leads to MatMul(q, k^T) is the logits
        if (x != null && x.opType().equals("Add")) {
            OnnxGraph.Node a = producerOf(x.inputs().get(0));
            x = leadsToScores(a) ? a : producerOf(x.inputs().get(1));
        }
        double scale = 1;
        if (x != null && (x.opType().equals("Div") || x.opType().equals("Mul"))) {
            double c = scalar(x.inputs().get(1));
            scale = x.opType().equals("Div") ? 1 / c : c;
            x = producerOf(x.inputs().get(0));
        }
        if (x == null || !x.opType().equals("MatMul")) {
            throw new NoMatch("its input is not MatMul(q, k^T), optionally scaled by Div or Mul and masked by Add");
        }
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new NoMatch("logit scale " + scale + " is not positive and finite");
        }
        Split q = split(x.inputs().get(0), new long[] {0, 2, 1, 3}, "queries");
        Split k = split(x.inputs().get(1), new long[] {0, 2, 3, 1}, "keys");
        OnnxGraph.Node pv = single(softmax.outputs().get(0), "MatMul", "attention probabilities");
        Split v = split(pv.inputs().get(1), new long[] {0, 2, 1, 3}, "values");
        OnnxGraph.Node back = single(pv.outputs().get(0), "Transpose", "attention output");
        if (!java.util.Arrays.equals(back.ints().get("perm"), new long[] {0, 2, 1, 3})) {
            throw new NoMatch("the attention output is transposed by " + java.util.Arrays.toString(back.ints().get("perm"))
                    + ", not [0, 2, 1, 3]");
        }
        OnnxGraph.Node merge = single(back.outputs().get(0), "Reshape", "attention output");
        if (q.heads != k.heads || q.headSize != k.headSize || v.heads != q.heads) {
            throw new NoMatch("queries, keys and values split into different heads");
        }
        if (q.w == null || k.w == null) {
            throw new NoMatch("the query or key projection is not a MatMul by an initializer");
        }
        String name = softmax.name().endsWith("/Softmax")
                ? softmax.name().substring(0, softmax.name().length() - "/Softmax".length()) : softmax.name();
        if (name.isEmpty()) {
            name = "attention" + index;
        }
        return new Site(name, q.projected, k.projected, v.projected, merge.outputs().get(0), q.w, k.w, q.heads,
                q.headSize, scale);
    }

    private boolean leadsToScores(OnnxGraph.Node n) {
        if (n != null && (n.opType().equals("Div") || n.opType().equals("Mul"))) {
            n = producerOf(n.inputs().get(0));
        }
        return n != null && n.opType().equals("MatMul");
    }

    /** A projection split into heads: Transpose(perm) of Reshape(projected, [., ., heads, headSize]). */
    private record Split(String projected, OnnxGraph.Tensor w, int heads, int headSize) {
    }

    private Split split(String tensor, long[] perm, String what) throws NoMatch {
        OnnxGraph.Node t = producerOf(tensor);
        if (t == null || !t.opType().equals("Transpose") || !java.util.Arrays.equals(t.ints().get("perm"), perm)) {
            throw new NoMatch("the " + what + " are not a Transpose by " + java.util.Arrays.toString(perm));
        }
        OnnxGraph.Node r = producerOf(t.inputs().get(0));
        if (r == null || !r.opType().equals("Reshape")) {
            throw new NoMatch("the " + what + " are not reshaped into heads before the Transpose");
        }
        long[] shape = shapeTail(r.inputs().get(1));
        if (shape == null || shape[0] < 1 || shape[1] < 1 || shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new NoMatch("the " + what + "' reshape does not give constant heads and head size");
        }
        String projected = r.inputs().get(0);
        return new Split(projected, projection(projected), (int) shape[0], (int) shape[1]);
    }

    /** The last two entries of a reshape's target shape: a constant, or a Concat whose last two parts are. */
    private long[] shapeTail(String shape) {
        double[] c = constant(shape);
        if (c != null) {
            return c.length == 4 ? new long[] {(long) c[2], (long) c[3]} : null;
        }
        OnnxGraph.Node concat = producerOf(shape);
        if (concat == null || !concat.opType().equals("Concat") || concat.inputs().size() != 4) {
            return null;
        }
        double[] h = constant(concat.inputs().get(2));
        double[] d = constant(concat.inputs().get(3));
        return h == null || d == null || h.length != 1 || d.length != 1 ? null : new long[] {(long) h[0], (long) d[0]};
    }

    /** The initializer W of {@code Add(MatMul(x, W), b)} or {@code MatMul(x, W)}, or null. */
    private OnnxGraph.Tensor projection(String projected) {
        OnnxGraph.Node p = producerOf(projected);
        if (p != null && p.opType().equals("Add")) {
            OnnxGraph.Node a = producerOf(p.inputs().get(0));
            p = a != null && a.opType().equals("MatMul") ? a : producerOf(p.inputs().get(1));
        }
        if (p == null || !p.opType().equals("MatMul")) {
            return null;
        }
        OnnxGraph.Tensor w = g.initializers.get(p.inputs().get(1));
        return w != null && w.dims().length == 2 ? w : null;
    }

    /** The one node of type {@code op} that reads {@code tensor} (others, e.g. Shape, may read it too). */
    private OnnxGraph.Node single(String tensor, String op, String what) throws NoMatch {
        List<OnnxGraph.Node> c = consumers.getOrDefault(tensor, List.of()).stream()
                .filter(n -> n.opType().equals(op)).toList();
        if (c.size() != 1) {
            throw new NoMatch("the " + what + " go to " + c.size() + " " + op + " nodes, not one");
        }
        return c.get(0);
    }

    private OnnxGraph.Node producerOf(String tensor) {
        return producer.get(tensor);
    }

    private double scalar(String tensor) throws NoMatch {
        double[] c = constant(tensor);
        if (c == null || c.length != 1) {
            throw new NoMatch("the logit scale is not a constant scalar");
        }
        return c[0];
    }

    /** The values of an initializer or a Constant node's output, or null when the tensor is computed. */
    private double[] constant(String tensor) {
        try {
            OnnxGraph.Tensor t = g.initializers.get(tensor);
            if (t == null) {
                OnnxGraph.Node n = producerOf(tensor);
                t = n != null && n.opType().equals("Constant") ? n.tensors().get("value") : null;
            }
            return t == null || t.size() > 16 ? null : t.values();
        } catch (IllegalArgumentException | ArithmeticException e) {
            return null;
        }
    }
}
