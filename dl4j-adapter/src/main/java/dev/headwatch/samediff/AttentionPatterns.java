package dev.headwatch.samediff;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.ScalarOp;

import dev.headwatch.core.Visibility;

/**
 * Finds attention written by hand in a SameDiff graph by its shape: a softmax over the last axis of
 * {@code matmul(q, k^T)}, optionally scaled (by a multiply or divide with a constant, before or after the
 * product) and masked (a constant added to the logits, or {@code where(condition, logits, fill)} with a constant
 * condition), whose result multiplies the values, {@code matmul(softmax, v)}. Each match is one attention layer,
 * named by its softmax output.
 *
 * <p>Read from the graph: q, k and v (each {@code [mb, heads, T, headSize]}, or {@code [mb, T, d]} for one head),
 * the scale (1 when there is none: the graph's softmax sees the logits as they are), the visibility (a constant mask
 * that hides exactly the keys after the query is CAUSAL; no mask is FULL), the attention output (the product with v,
 * for {@code reconstructionError}), and, when q and k are {@code permute(reshape(matmul(x, W)))} of a trainable
 * {@code W [nIn, heads*headSize]}, the projection weights (head h: columns {@code h*headSize ..}). What matches the
 * product-softmax-product shape but cannot be read exactly (another mask, a softmax over another axis) is returned
 * as {@link Found#problem()}, never guessed.
 */
public final class AttentionPatterns {

    private static final Set<String> SCALE_OPS = Set.of("mul_scalar", "div_scalar", "multiply", "divide");
    /** {@code where(condition, x, y)}: x where the condition holds, else y. */
    private static final Set<String> WHERE_OPS = Set.of("where_np", "Where", "select");

    /**
     * One attention layer found in a graph.
     *
     * @param variables how to read it (null when {@code problem} is set)
     * @param wq        the query projection weights {@code [nIn, heads*headSize]}, or null when not found
     * @param wk        the key projection weights, or null
     * @param layer     the layer's name: its softmax output
     * @param problem   why the layer cannot be read, or null
     */
    public record Found(AttentionVariables variables, String wq, String wk, String layer, String problem) {
    }

    private AttentionPatterns() {
    }

    /** Every attention layer in {@code sd}, in graph order. */
    public static List<Found> find(SameDiff sd) {
        List<Found> found = new ArrayList<>();
        for (SameDiffOp op : sd.getOps().values()) {
            if ("softmax".equals(op.getOp().opName())) {
                Found f = match(sd, op);
                if (f != null) {
                    found.add(f);
                }
            }
        }
        return found;
    }

    /** The layer around one softmax, or null when the softmax is not between two products. */
    private static Found match(SameDiff sd, SameDiffOp softmax) {
        String probs = softmax.getOutputsOfOp().get(0);
        SameDiffOp av = consumer(sd, probs, "matmul");
        if (av == null || !av.getInputsToOp().get(0).equals(probs) || transposed(av, 0) || transposed(av, 1)) {
            return null;
        }
        // Walk back from the softmax input: where / mask add / scale, in any order, down to matmul(q, k^T).
        String logits = softmax.getInputsToOp().get(0);
        double scale = 1;
        Visibility visibility = Visibility.FULL;
        String problem = null;
        SameDiffOp qk = null;
        for (int depth = 0; depth < 6 && qk == null; depth++) {
            SameDiffOp producer = producer(sd, logits);
            if (producer == null) {
                return null;
            }
            String name = producer.getOp().opName();
            List<String> in = producer.getInputsToOp();
            if (name.equals("matmul")) {
                qk = producer;
            } else if (SCALE_OPS.contains(name)) {
                double s = scalar(sd, producer);
                if (Double.isNaN(s)) {
                    return null;
                }
                scale *= name.startsWith("div") ? 1 / s : s;
                logits = in.get(0);
            } else if (name.equals("add") && in.size() == 2) {
                INDArray mask = constant(sd, in.get(1));
                if (mask == null) {
                    problem = "the mask added to the logits (" + in.get(1) + ") is not a constant; declare this layer";
                } else if (isCausal(mask, true)) {
                    visibility = Visibility.CAUSAL;
                } else {
                    problem = "the mask added to the logits (" + in.get(1) + ") is not causal; declare this layer";
                }
                logits = in.get(0);
            } else if (WHERE_OPS.contains(name) && in.size() == 3) {
                INDArray condition = constant(sd, in.get(0));
                if (condition != null && isCausal(condition, false)) {
                    visibility = Visibility.CAUSAL;
                } else {
                    problem = "the condition of " + name + " on the logits is not a constant causal mask; declare this layer";
                }
                logits = in.get(1);
            } else {
                return null;
            }
        }
        if (qk == null) {
            return null;
        }
        String layer = probs;
        if (problem != null) {
            return new Found(null, null, null, layer, problem);
        }
        String q = qk.getInputsToOp().get(0);
        String k = qk.getInputsToOp().get(1);
        if (transposed(qk, 0)) {
            return null;
        }
        if (!transposed(qk, 1)) {
            // k^T written as its own op: permute or transpose swapping the last two axes.
            SameDiffOp kt = producer(sd, k);
            if (kt == null || !swapsLastTwo(sd, kt)) {
                return null;
            }
            k = kt.getInputsToOp().get(0);
        }
        // A scale on q before the product.
        SameDiffOp qScale = producer(sd, q);
        if (qScale != null && SCALE_OPS.contains(qScale.getOp().opName())) {
            double s = scalar(sd, qScale);
            if (!Double.isNaN(s)) {
                scale *= qScale.getOp().opName().startsWith("div") ? 1 / s : s;
                q = qScale.getInputsToOp().get(0);
            }
        }
        String v = av.getInputsToOp().get(1);
        String out = av.getOutputsOfOp().get(0);
        Projection pq = projection(sd, q);
        Projection pk = projection(sd, k);
        AttentionVariables vars = AttentionVariables.of(layer, q, k, v).visibility(visibility).scale(scale).output(out);
        if (pq != null && pk != null && pq.heads == pk.heads) {
            vars = vars.heads(pq.heads);
            return new Found(vars, pq.weights, pk.weights, layer, null);
        }
        return new Found(vars, null, null, layer, null);
    }

    /** {@code x W} split into heads by reshape to [.., T, heads, hs] and permute (0, 2, 1, 3). */
    private record Projection(String weights, int heads) {
    }

    private static Projection projection(SameDiff sd, String headsFirst) {
        SameDiffOp permute = producer(sd, headsFirst);
        if (permute == null || !permute.getOp().opName().equals("permute")
                || !java.util.Arrays.equals(intArgs(sd, permute, 1), new long[] {0, 2, 1, 3})) {
            return null;
        }
        SameDiffOp reshape = producer(sd, permute.getInputsToOp().get(0));
        if (reshape == null || !reshape.getOp().opName().equals("reshape")) {
            return null;
        }
        long[] shape = intArgs(sd, reshape, 1);
        SameDiffOp product = producer(sd, reshape.getInputsToOp().get(0));
        if (shape == null || shape.length != 4 || shape[2] < 1 || product == null
                || !product.getOp().opName().equals("matmul") || transposed(product, 0) || transposed(product, 1)) {
            return null;
        }
        String w = product.getInputsToOp().get(1);
        return sd.getVariable(w).getVariableType() == VariableType.VARIABLE ? new Projection(w, (int) shape[2]) : null;
    }

    private static SameDiffOp producer(SameDiff sd, String variable) {
        Variable v = sd.getVariables().get(variable);
        return v == null || v.getOutputOfOp() == null ? null : sd.getOps().get(v.getOutputOfOp());
    }

    private static SameDiffOp consumer(SameDiff sd, String variable, String opName) {
        Variable v = sd.getVariables().get(variable);
        if (v == null || v.getInputsForOp() == null) {
            return null;
        }
        for (String name : v.getInputsForOp()) {
            SameDiffOp op = sd.getOps().get(name);
            if (op != null && op.getOp().opName().equals(opName)) {
                return op;
            }
        }
        return null;
    }

    /** Whether a matmul transposes its input {@code index} (0 or 1), from its integer arguments. */
    private static boolean transposed(SameDiffOp matmul, int index) {
        long[] args = matmul.getOp() instanceof DynamicCustomOp c ? c.iArgs() : new long[0];
        return args.length > index && args[index] != 0;
    }

    private static boolean swapsLastTwo(SameDiff sd, SameDiffOp op) {
        String name = op.getOp().opName();
        if (name.equals("transpose")) {
            return true;   // of a 2-D k: [T, d] -> [d, T]
        }
        if (!name.equals("permute")) {
            return false;
        }
        long[] p = intArgs(sd, op, 1);
        if (p == null || p.length < 2) {
            return false;
        }
        for (int i = 0; i < p.length - 2; i++) {
            if (p[i] != i) {
                return false;
            }
        }
        return p[p.length - 2] == p.length - 1 && p[p.length - 1] == p.length - 2;
    }

    /** The op's integer arguments, or (for shape-like ops) its constant input {@code index}; null if neither. */
    private static long[] intArgs(SameDiff sd, SameDiffOp op, int index) {
        DifferentialFunction f = op.getOp();
        if (f instanceof DynamicCustomOp c && c.iArgs().length > 0) {
            long[] a = c.iArgs();
            // reshape keeps its order ('c' = 99) as the first argument
            return f.opName().equals("reshape") && a.length > 1 && Math.abs(a[0]) > 1 && (Math.abs(a[0]) == 'c' || Math.abs(a[0]) == 'f')
                    ? java.util.Arrays.copyOfRange(a, 1, a.length) : a;
        }
        if (op.getInputsToOp().size() > index) {
            INDArray a = constant(sd, op.getInputsToOp().get(index));
            return a == null ? null : a.toLongVector();
        }
        return null;
    }

    /** The scalar a scale op multiplies or divides by, or NaN when it is not a constant scalar. */
    private static double scalar(SameDiff sd, SameDiffOp op) {
        if (op.getOp() instanceof ScalarOp s && op.getInputsToOp().size() == 1) {
            INDArray value = s.scalar();
            return value == null ? Double.NaN : value.getDouble(0);
        }
        if (op.getInputsToOp().size() == 2) {
            INDArray c = constant(sd, op.getInputsToOp().get(1));
            return c != null && c.length() == 1 ? c.getDouble(0) : Double.NaN;
        }
        return Double.NaN;
    }

    /** The array of a constant, or null for anything that can change (placeholders, variables, op outputs). */
    private static INDArray constant(SameDiff sd, String name) {
        SDVariable v = sd.getVariable(name);
        return v != null && v.getVariableType() == VariableType.CONSTANT ? v.getArr() : null;
    }

    /**
     * Whether a mask over the last two axes hides exactly the keys after each query: an additive mask is 0 on and
     * below the diagonal and at most -1e4 above it; a condition is true (non-zero) on and below it, false above.
     */
    static boolean isCausal(INDArray mask, boolean additive) {
        if (mask.rank() < 2) {
            return false;
        }
        long n = mask.size(mask.rank() - 1);
        if (mask.size(mask.rank() - 2) != n || mask.length() != n * n) {
            return false;
        }
        INDArray m = mask.reshape(n, n);
        for (long i = 0; i < n; i++) {
            for (long j = 0; j < n; j++) {
                double x = m.getDouble(i, j);
                boolean visible = additive ? x == 0 : x != 0;
                boolean hidden = additive ? x <= -1e4 : x == 0;
                if (j <= i ? !visible : !hidden) {
                    return false;
                }
            }
        }
        return true;
    }
}
