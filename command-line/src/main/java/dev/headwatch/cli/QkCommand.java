package dev.headwatch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.Visibility;
import dev.headwatch.io.Npy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code headwatch qk}: every per-head metric (and each head's redundancy within the layer) of queries
 * and keys read from {@code .npy} files, as JSON Lines on stdout.
 */
@Command(name = "qk",
        header = "Computes every per-head metric of queries and keys saved with numpy.save, one JSON line per head.",
        sortOptions = false,
        description = {
                "Per-head metrics of queries and keys exported as NumPy .npy files (float32 or float64, C order).",
                "Shapes [n, d], [H, n, d] or [B, H, n, d]; prints one JSON object per head. With B > 1 each field is "
                        + "the mean over the B sequences (sinkPosition and redundancyPartner: the most frequent value)."
        })
final class QkCommand implements Callable<Integer> {

    /** Fields that hold positions or counts: printed as integers when whole. */
    private static final Set<HeadField> WHOLE_FIELDS = EnumSet.of(HeadField.NUMERICAL_RANK,
            HeadField.RANK_BOUND, HeadField.SINK_POSITION, HeadField.REDUNDANCY_PARTNER);

    @Spec
    CommandSpec spec;

    @Option(names = "--q", required = true, paramLabel = "Q.npy",
            description = "Queries: [n, d], [H, n, d] or [B, H, n, d].")
    Path qFile;

    @Option(names = "--k", required = true, paramLabel = "K.npy", description = "Keys, the shape of Q.")
    Path kFile;

    @Option(names = "--v", paramLabel = "V.npy",
            description = "Values (optional, enables linearGap): the shape of Q except the last dimension dv.")
    Path vFile;

    @Option(names = "--mask", paramLabel = "full|causal", defaultValue = "full",
            description = "Which keys each query sees (default: ${DEFAULT-VALUE}).")
    String mask;

    @Option(names = "--length", paramLabel = "L",
            description = "Only the first L positions exist, the rest is padding (full mask only).")
    Integer length;

    @Option(names = "--scale", paramLabel = "S", description = "Logit scale tau (default: 1/sqrt(d)).")
    Double scale;

    @Option(names = "--repeat", paramLabel = "R",
            description = "After the first pass, compute R more times and end with a timing line: the mean "
                    + "milliseconds of one of those passes over all heads, and of the first (the JIT's warm-up).")
    Integer repeat;

    @Override
    public Integer call() throws JsonProcessingException {
        Headwatch.singleThreadedNd4j();
        List<List<HeadInput>> sequences = load();
        long first = System.nanoTime();
        List<HeadMetrics> heads = analyse(sequences);
        long firstNanos = System.nanoTime() - first;
        // the timed passes come after the first, as the NumPy peers in benchmarks/ time theirs after a warm-up
        int passes = repeat == null ? 0 : repeat;
        long nanos = 0;
        for (int r = 0; r < passes; r++) {
            long start = System.nanoTime();
            heads = analyse(sequences);
            nanos += System.nanoTime() - start;
        }

        ObjectMapper json = new ObjectMapper();
        PrintWriter out = spec.commandLine().getOut();
        for (int h = 0; h < heads.size(); h++) {
            out.println(json.writeValueAsString(headLine(h, heads.get(h))));
        }
        if (repeat != null) {
            Map<String, Object> timing = new LinkedHashMap<>();
            timing.put("type", "timing");
            timing.put("repeat", passes);
            timing.put("meanMillis", nanos / 1e6 / passes);
            timing.put("firstMillis", firstNanos / 1e6);
            out.println(json.writeValueAsString(timing));
        }
        out.flush();
        return 0;
    }

    /**
     * One head's metrics over all sequences: {@link LayerAnalysis} per sequence, then
     * {@link HeadMetrics#aggregate} over sequences when there are several.
     */
    static List<HeadMetrics> analyse(List<List<HeadInput>> sequences) {
        int heads = sequences.get(0).size();
        List<List<HeadMetrics>> perHead = new ArrayList<>();
        for (int h = 0; h < heads; h++) {
            perHead.add(new ArrayList<>(sequences.size()));
        }
        for (List<HeadInput> layer : sequences) {
            List<HeadMetrics> metrics = LayerAnalysis.compute(layer).heads();
            for (int h = 0; h < heads; h++) {
                perHead.get(h).add(metrics.get(h));
            }
        }
        List<HeadMetrics> result = new ArrayList<>(heads);
        for (List<HeadMetrics> m : perHead) {
            result.add(m.size() == 1 ? m.get(0) : HeadMetrics.aggregate(m));
        }
        return result;
    }

    /** {@code {"head": h, <every HeadField>}}; undefined and non-finite values are null. */
    static Map<String, Object> headLine(int head, HeadMetrics metrics) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("head", head);
        for (HeadField f : HeadField.values()) {
            double v = metrics.get(f);
            Object value;
            if (!Double.isFinite(v)) {
                value = null;
            } else if (WHOLE_FIELDS.contains(f) && v == Math.rint(v) && Math.abs(v) < 1e15) {
                value = (long) v;
            } else {
                value = v;
            }
            line.put(f.fieldName(), value);
        }
        return line;
    }

    /** Reads and checks the input: one list of per-head inputs per sequence. Bad input exits with 2. */
    private List<List<HeadInput>> load() {
        Visibility.Kind kind = switch (mask.toLowerCase(Locale.ROOT)) {
            case "full" -> Visibility.Kind.FULL;
            case "causal" -> Visibility.Kind.CAUSAL;
            default -> throw bad("--mask must be full or causal but was '" + mask + "'");
        };
        if (length != null && kind == Visibility.Kind.CAUSAL) {
            throw bad("--length pads a full mask and cannot be combined with --mask causal");
        }
        if (scale != null && !(scale > 0 && Double.isFinite(scale))) {
            throw bad("--scale must be positive and finite but was " + scale);
        }
        if (repeat != null && repeat < 1) {
            throw bad("--repeat must be at least 1 but was " + repeat);
        }

        INDArray q = read(qFile);
        INDArray k = read(kFile);
        INDArray v = vFile == null ? null : read(vFile);
        long[] qs = q.shape();
        if (qs.length < 2 || qs.length > 4) {
            throw bad("queries must be [n, d], [H, n, d] or [B, H, n, d] but " + qFile + " has shape " + text(qs));
        }
        if (!Arrays.equals(qs, k.shape())) {
            throw bad("Q and K shapes differ: " + qFile + " " + text(qs) + ", " + kFile + " " + text(k.shape()));
        }
        if (v != null) {
            long[] vs = v.shape();
            if (vs.length != qs.length || !Arrays.equals(Arrays.copyOf(vs, vs.length - 1), Arrays.copyOf(qs, qs.length - 1))) {
                throw bad("V must have the shape of Q except the last dimension, but " + vFile + " has "
                        + text(vs) + " and " + qFile + " " + text(qs));
            }
            if (vs[vs.length - 1] == 0) {
                throw bad("V has dv = 0: " + vFile + " has shape " + text(vs));
            }
        }
        if (q.dataType() != k.dataType() || (v != null && v.dataType() != q.dataType())) {
            throw bad("Q, K and V must have the same dtype but " + qFile + " is " + q.dataType() + ", " + kFile + " is "
                    + k.dataType() + (v == null ? "" : ", " + vFile + " is " + v.dataType()));
        }
        int rank = qs.length;
        long b = rank == 4 ? qs[0] : 1;
        long heads = rank >= 3 ? qs[rank - 3] : 1;
        long n = qs[rank - 2];
        long d = qs[rank - 1];
        if (n == 0) {
            throw bad("n = 0: " + qFile + " has shape " + text(qs) + "; need at least one position");
        }
        if (d == 0 || heads == 0 || b == 0) {
            throw bad((d == 0 ? "d = 0" : heads == 0 ? "H = 0" : "B = 0") + ": " + qFile + " has shape " + text(qs)
                    + "; nothing to analyse");
        }
        if (length != null && (length < 1 || length > n)) {
            throw bad("--length must be in 1.." + n + " (n) but was " + length);
        }
        Visibility visibility = kind == Visibility.Kind.CAUSAL ? Visibility.CAUSAL
                : length == null ? Visibility.FULL : Visibility.padded(length);
        double tau = scale == null ? Double.NaN : scale;

        INDArray q4 = q.reshape('c', b, heads, n, d);
        INDArray k4 = k.reshape('c', b, heads, n, d);
        INDArray v4 = v == null ? null : v.reshape('c', b, heads, n, v.size(rank - 1));
        List<List<HeadInput>> sequences = new ArrayList<>();
        for (int s = 0; s < b; s++) {
            List<HeadInput> layer = new ArrayList<>();
            for (int h = 0; h < heads; h++) {
                try {
                    layer.add(HeadInput.of(head(q4, s, h), head(k4, s, h), v4 == null ? null : head(v4, s, h),
                            visibility, tau));
                } catch (IllegalArgumentException e) {
                    throw bad(e.getMessage());
                }
            }
            sequences.add(layer);
        }
        return sequences;
    }

    /** A contiguous copy of one head's [n, x] matrix. */
    private static INDArray head(INDArray a4, int sequence, int head) {
        return a4.get(NDArrayIndex.point(sequence), NDArrayIndex.point(head), NDArrayIndex.all(), NDArrayIndex.all())
                .dup('c');
    }

    private INDArray read(Path file) {
        try {
            return Npy.read(file);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
    }

    private RuntimeException bad(String message) {
        return Headwatch.badInput(spec, message);
    }

    private static String text(long[] shape) {
        return Arrays.toString(shape);
    }
}
