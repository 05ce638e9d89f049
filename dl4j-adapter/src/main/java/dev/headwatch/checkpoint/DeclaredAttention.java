package dev.headwatch.checkpoint;

import dev.headwatch.core.Visibility;
import dev.headwatch.samediff.AttentionVariables;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Locale;

/**
 * A hand-written attention layer of a SameDiff model, declared for checkpoint analysis. With probe data its
 * q, k, v (and output) variables are read exactly as {@link dev.headwatch.samediff.SameDiffAttentionListener}
 * reads them ({@link AttentionVariables}); with the query and key projection variables ({@link #weights})
 * its weight-only metrics are computed too, with or without probe data.
 *
 * <p>The command line takes the same as one string ({@link #parse}):
 * <pre>
 * LAYER=Q:K[:V[:OUT]][,causal][,heads=N][,scale=X][,wq=VAR,wk=VAR][,layout=columns|rows|heads-first]
 * layer0=layer0/q:layer0/k:layer0/v:layer0/out,causal,heads=4,wq=layer0/Wq,wk=layer0/Wk
 * </pre>
 *
 * @param variables the q, k, v, output variables, heads, visibility and scale
 * @param wq        the query projection variable, or null
 * @param wk        the key projection variable, or null
 * @param layout    how the heads sit in {@code wq} and {@code wk}
 */
public record DeclaredAttention(AttentionVariables variables, String wq, String wk, WeightLayout layout) {

    /** How the heads of a projection weight are laid out. */
    public enum WeightLayout {
        /** {@code [nIn, heads*headSize]}, {@code q = x W}: head h is the h-th block of headSize columns. */
        COLUMNS,
        /** {@code [heads*headSize, nIn]}, {@code q = W x}: head h is the h-th block of headSize rows. */
        ROWS,
        /** {@code [heads, headSize, nIn]}, as DL4J and the fused SameDiff op store them. */
        HEADS_FIRST;

        static WeightLayout parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "columns" -> COLUMNS;
                case "rows" -> ROWS;
                case "heads-first" -> HEADS_FIRST;
                default -> throw new IllegalArgumentException("layout must be columns, rows or heads-first but was " + s);
            };
        }
    }

    public DeclaredAttention {
        if (variables == null) {
            throw new IllegalArgumentException("variables must not be null");
        }
        if ((wq == null) != (wk == null)) {
            throw new IllegalArgumentException("layer " + variables.layer() + ": give both wq and wk or neither, but got wq="
                    + wq + ", wk=" + wk);
        }
        if (layout == null) {
            throw new IllegalArgumentException("layout must not be null (layer " + variables.layer() + ")");
        }
    }

    /** A layer read on probe data only (no weight-only metrics). */
    public static DeclaredAttention of(AttentionVariables variables) {
        return new DeclaredAttention(variables, null, null, WeightLayout.COLUMNS);
    }

    /** The same layer with its query and key projection variables, heads laid out as given. */
    public DeclaredAttention weights(String queryWeights, String keyWeights, WeightLayout weightLayout) {
        return new DeclaredAttention(variables, queryWeights, keyWeights, weightLayout);
    }

    /** The layer name used in every output. */
    public String layer() {
        return variables.layer();
    }

    /**
     * Parses {@code LAYER=Q:K[:V[:OUT]]} followed by comma-separated options: {@code causal} (or {@code full},
     * the default), {@code heads=N} (default {@code defaultHeads}), {@code scale=X} (default
     * {@code 1/sqrt(headSize)}), {@code wq=VAR} and {@code wk=VAR}, {@code layout=columns|rows|heads-first}
     * (default columns).
     *
     * @throws IllegalArgumentException naming the spec and the problem
     */
    public static DeclaredAttention parse(String spec, int defaultHeads) {
        try {
            String[] parts = spec.split(",");
            int eq = parts[0].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected LAYER=Q:K[:V[:OUT]] first");
            }
            String layer = parts[0].substring(0, eq).trim();
            String[] vars = parts[0].substring(eq + 1).split(":", -1);
            if (vars.length < 2 || vars.length > 4 || Arrays.stream(vars).anyMatch(v -> v.isBlank())) {
                throw new IllegalArgumentException("expected 2 to 4 non-empty variable names Q:K[:V[:OUT]]");
            }
            AttentionVariables v = AttentionVariables.of(layer, vars[0].trim(), vars[1].trim(),
                    vars.length > 2 ? vars[2].trim() : null).heads(defaultHeads);
            if (vars.length > 3) {
                v = v.output(vars[3].trim());
            }
            String wq = null;
            String wk = null;
            WeightLayout layout = WeightLayout.COLUMNS;
            for (int i = 1; i < parts.length; i++) {
                String option = parts[i].trim();
                int at = option.indexOf('=');
                String key = at < 0 ? option : option.substring(0, at).trim();
                String value = at < 0 ? null : option.substring(at + 1).trim();
                if (at < 0 != (key.equals("causal") || key.equals("full"))) {
                    throw new IllegalArgumentException("unknown option '" + option + "'");
                }
                switch (key) {
                    case "causal" -> v = v.visibility(Visibility.CAUSAL);
                    case "full" -> v = v.visibility(Visibility.FULL);
                    case "heads" -> v = v.heads(Integer.parseInt(value));
                    case "scale" -> v = v.scale(Double.parseDouble(value));
                    case "wq" -> wq = value;
                    case "wk" -> wk = value;
                    case "layout" -> layout = WeightLayout.parse(value);
                    default -> throw new IllegalArgumentException("unknown option '" + option + "'");
                }
            }
            return new DeclaredAttention(v, wq, wk, layout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--attention '" + spec + "': " + e.getMessage(), e);
        }
    }

    /**
     * A projection weight as {@code [heads, headSize, nIn]} (a view where possible).
     *
     * @throws IllegalArgumentException when the shape does not fit the layout and head count
     */
    INDArray headsFirst(String name, INDArray w) {
        int heads = variables.heads();
        if (layout == WeightLayout.HEADS_FIRST) {
            if (w.rank() != 3) {
                throw new IllegalArgumentException(name + " has shape " + Arrays.toString(w.shape())
                        + " but layout heads-first needs [heads, headSize, nIn]");
            }
            return w;
        }
        if (w.rank() != 2) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(w.shape()) + " but layout "
                    + layout.name().toLowerCase(Locale.ROOT) + " needs a matrix");
        }
        long split = layout == WeightLayout.COLUMNS ? w.size(1) : w.size(0);
        if (split % heads != 0) {
            throw new IllegalArgumentException(name + " of shape " + Arrays.toString(w.shape()) + " does not split into "
                    + heads + " heads along its " + (layout == WeightLayout.COLUMNS ? "columns" : "rows"));
        }
        long hs = split / heads;
        return layout == WeightLayout.COLUMNS
                ? w.reshape('c', w.size(0), heads, hs).permute(1, 2, 0)
                : w.reshape('c', heads, hs, w.size(1));
    }
}
