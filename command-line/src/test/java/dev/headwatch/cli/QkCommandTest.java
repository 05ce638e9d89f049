package dev.headwatch.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headwatch.core.HeadAnalysis;
import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.Visibility;
import dev.headwatch.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class QkCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    // ------------------------------------------------------------ output format

    @Test
    void singleHead_printsOneLineWithHeadAndEveryFieldInOrder() {
        Path q = save("q.npy", random(DataType.DOUBLE, 1, 6, 4));
        Path k = save("k.npy", random(DataType.DOUBLE, 2, 6, 4));
        CliRun r = CliRun.of("qk", "--q", q.toString(), "--k", k.toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.outLines()).hasSize(1);
        Map<String, Object> line = parse(r.outLines().get(0));
        List<String> expected = new ArrayList<>(List.of("head"));
        for (HeadField f : HeadField.values()) {
            expected.add(f.fieldName());
        }
        assertThat(line.keySet()).containsExactlyElementsOf(expected);
        assertThat(line.get("head")).isEqualTo(0);
        // Not measurable in qk: no layer output, no V, a single head.
        assertThat(line.get("reconstructionError")).isNull();
        assertThat(line.get("linearGap")).isNull();
        assertThat(line.get("maxRedundancy")).isNull();
        assertThat(line.get("redundancyPartner")).isNull();
        // FULL with n = 6, d = 4: rankBound = min(d, n - 1) = 4, printed as an integer.
        assertThat(line.get("rankBound")).isEqualTo(4);
        assertThat(line.get("entropy")).isInstanceOf(Double.class);
    }

    @Test
    void singleHead_valuesEqualHeadAnalysis() {
        INDArray q = random(DataType.FLOAT, 3, 7, 5);
        INDArray k = random(DataType.FLOAT, 4, 7, 5);
        INDArray v = random(DataType.FLOAT, 5, 7, 3);
        CliRun r = CliRun.of("qk", "--q", save("q.npy", q).toString(), "--k", save("k.npy", k).toString(),
                "--v", save("v.npy", v).toString());
        assertThat(r.exitCode()).isZero();
        HeadMetrics expected = HeadAnalysis.compute(HeadInput.of(q, k, v, Visibility.FULL, Double.NaN));
        Map<String, Object> line = parse(r.outLines().get(0));
        for (HeadField f : HeadField.values()) {
            if (f != HeadField.MAX_REDUNDANCY && f != HeadField.REDUNDANCY_PARTNER) {
                assertField(line, f, expected.get(f));
            }
        }
        assertThat(line.get("linearGap")).isNotNull();
    }

    @Test
    void heads_valuesEqualLayerAnalysis_forEveryMaskLengthAndScale() {
        int heads = 3;
        int n = 8;
        int d = 4;
        INDArray q = random(DataType.DOUBLE, 11, heads, n, d);
        INDArray k = random(DataType.DOUBLE, 12, heads, n, d);
        INDArray v = random(DataType.DOUBLE, 13, heads, n, 2);
        String[] qkv = {"--q", save("q.npy", q).toString(), "--k", save("k.npy", k).toString(),
                "--v", save("v.npy", v).toString()};
        Object[][] cases = {
                {new String[0], Visibility.FULL, Double.NaN},
                {new String[] {"--mask", "causal"}, Visibility.CAUSAL, Double.NaN},
                {new String[] {"--length", "5"}, Visibility.padded(5), Double.NaN},
                {new String[] {"--mask", "full", "--length", "8", "--scale", "0.3"}, Visibility.padded(8), 0.3},
                {new String[] {"--scale", "2"}, Visibility.FULL, 2.0},
        };
        for (Object[] c : cases) {
            String[] extra = (String[]) c[0];
            CliRun r = CliRun.of(concat(concat(new String[] {"qk"}, qkv), extra));
            assertThat(r.exitCode()).as(Arrays.toString(extra)).isZero();
            List<HeadInput> inputs = new ArrayList<>();
            for (int h = 0; h < heads; h++) {
                inputs.add(HeadInput.of(slice(q, h), slice(k, h), slice(v, h), (Visibility) c[1], (double) c[2]));
            }
            List<HeadMetrics> expected = LayerAnalysis.compute(inputs).heads();
            assertThat(r.outLines()).as(Arrays.toString(extra)).hasSize(heads);
            for (int h = 0; h < heads; h++) {
                Map<String, Object> line = parse(r.outLines().get(h));
                assertThat(line.get("head")).isEqualTo(h);
                for (HeadField f : HeadField.values()) {
                    assertField(line, f, expected.get(h).get(f));
                }
            }
        }
    }

    @Test
    void causalMask_hasNullRankBound() {
        CliRun r = CliRun.of("qk", "--q", save("q.npy", random(DataType.DOUBLE, 1, 5, 3)).toString(),
                "--k", save("k.npy", random(DataType.DOUBLE, 2, 5, 3)).toString(), "--mask", "causal");
        assertThat(r.exitCode()).isZero();
        assertThat(parse(r.outLines().get(0)).get("rankBound")).isNull();
    }

    @Test
    void onePosition_isValidInputWithUndefinedEntropy() {
        // n = 1: the only row sees one key, so E = 0 and no row counts towards the entropy.
        CliRun r = CliRun.of("qk", "--q", save("q.npy", random(DataType.DOUBLE, 1, 1, 3)).toString(),
                "--k", save("k.npy", random(DataType.DOUBLE, 2, 1, 3)).toString());
        assertThat(r.exitCode()).isZero();
        Map<String, Object> line = parse(r.outLines().get(0));
        assertThat(line.get("entropy")).isNull();
        assertThat(((Number) line.get("energyRms")).doubleValue()).isZero();
    }

    @Test
    void nonFiniteInput_flowsThroughAsNull() {
        INDArray q = random(DataType.DOUBLE, 1, 5, 3);
        q.putScalar(2, 1, Double.NaN);
        CliRun r = CliRun.of("qk", "--q", save("q.npy", q).toString(),
                "--k", save("k.npy", random(DataType.DOUBLE, 2, 5, 3)).toString());
        assertThat(r.exitCode()).isZero();
        Map<String, Object> line = parse(r.outLines().get(0));
        assertThat(line.get("maxLogit")).isNull();
        assertThat(line.get("entropy")).isNull();
        // The bound depends on the shape only: min(d, n - 1) = 3.
        assertThat(line.get("rankBound")).isEqualTo(3);
    }

    @Test
    void batch_isTheMeanOverSequences_andTheModeForPositions() {
        int b = 3;
        int heads = 2;
        int n = 6;
        int d = 3;
        INDArray q = random(DataType.DOUBLE, 21, b, heads, n, d);
        INDArray k = random(DataType.DOUBLE, 22, b, heads, n, d);
        CliRun r = CliRun.of("qk", "--q", save("q.npy", q).toString(), "--k", save("k.npy", k).toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.outLines()).hasSize(heads);

        // Per-sequence values, by the layer analysis of each sequence.
        double[][][] perSeq = new double[heads][HeadField.values().length][b];
        for (int s = 0; s < b; s++) {
            List<HeadInput> inputs = new ArrayList<>();
            for (int h = 0; h < heads; h++) {
                inputs.add(HeadInput.of(slice(q, s, h), slice(k, s, h), null, Visibility.FULL, Double.NaN));
            }
            List<HeadMetrics> m = LayerAnalysis.compute(inputs).heads();
            for (int h = 0; h < heads; h++) {
                for (HeadField f : HeadField.values()) {
                    perSeq[h][f.ordinal()][s] = m.get(h).get(f);
                }
            }
        }
        for (int h = 0; h < heads; h++) {
            Map<String, Object> line = parse(r.outLines().get(h));
            for (HeadField f : new HeadField[] {HeadField.ENTROPY, HeadField.MAX_LOGIT, HeadField.EFFECTIVE_RANK,
                    HeadField.KEY_COHERENCE, HeadField.MAX_REDUNDANCY}) {
                double[] x = perSeq[h][f.ordinal()];
                assertThat(((Number) line.get(f.fieldName())).doubleValue()).as("head %d %s", h, f)
                        .isCloseTo((x[0] + x[1] + x[2]) / 3, org.assertj.core.data.Offset.offset(1e-12));
            }
            assertThat(((Number) line.get("sinkPosition")).doubleValue())
                    .isEqualTo(mode(perSeq[h][HeadField.SINK_POSITION.ordinal()]));
            // Two heads: each head's partner is the other one in every sequence.
            assertThat(line.get("redundancyPartner")).isEqualTo(1 - h);
            // And the whole line is HeadMetrics.aggregate of the per-sequence metrics.
            List<HeadMetrics> seqs = new ArrayList<>();
            for (int s = 0; s < b; s++) {
                HeadMetrics.Builder m = HeadMetrics.builder();
                for (HeadField f : HeadField.values()) {
                    m.set(f, perSeq[h][f.ordinal()][s]);
                }
                seqs.add(m.build());
            }
            HeadMetrics expected = HeadMetrics.aggregate(seqs);
            for (HeadField f : HeadField.values()) {
                assertField(line, f, expected.get(f));
            }
        }
    }

    @Test
    void repeat_endsWithATimingLine() {
        String[] args = {"qk", "--q", save("q.npy", random(DataType.FLOAT, 1, 2, 5, 3)).toString(),
                "--k", save("k.npy", random(DataType.FLOAT, 2, 2, 5, 3)).toString()};
        CliRun once = CliRun.of(args);
        assertThat(once.outLines()).hasSize(2).noneMatch(l -> l.contains("timing"));

        CliRun r = CliRun.of(concat(args, new String[] {"--repeat", "3"}));
        assertThat(r.exitCode()).isZero();
        assertThat(r.outLines()).hasSize(3);
        assertThat(r.outLines().subList(0, 2)).isEqualTo(once.outLines());
        Map<String, Object> timing = parse(r.outLines().get(2));
        assertThat(timing.keySet()).containsExactly("type", "repeat", "meanMillis", "firstMillis");
        assertThat(timing.get("type")).isEqualTo("timing");
        assertThat(timing.get("repeat")).isEqualTo(3);
        assertThat(((Number) timing.get("meanMillis")).doubleValue()).isGreaterThan(0);
        assertThat(((Number) timing.get("firstMillis")).doubleValue()).isGreaterThan(0);
    }

    // ------------------------------------------------------------ bad input

    @Test
    void badInput_isOneLineOnStderrAndExitTwo() throws IOException {
        String q = save("q.npy", random(DataType.FLOAT, 1, 2, 5, 3)).toString();
        String k = save("k.npy", random(DataType.FLOAT, 2, 2, 5, 3)).toString();
        String kOther = save("k4.npy", random(DataType.FLOAT, 3, 2, 5, 4)).toString();
        String kDouble = save("kd.npy", random(DataType.DOUBLE, 4, 2, 5, 3)).toString();
        String vBad = save("vbad.npy", random(DataType.FLOAT, 5, 2, 4, 3)).toString();
        String rank1 = save("r1.npy", random(DataType.FLOAT, 6, 5)).toString();
        String rank5 = save("r5.npy", random(DataType.FLOAT, 7, 1, 1, 2, 5, 3)).toString();
        String empty = save("n0.npy", Nd4j.create(DataType.FLOAT, 0, 3)).toString();
        String text = Files.writeString(dir.resolve("text.npy"), "not numpy\n").toString();
        byte[] full = Files.readAllBytes(Path.of(k));
        String truncated = Files.write(dir.resolve("trunc.npy"), Arrays.copyOf(full, full.length - 7)).toString();
        String missing = dir.resolve("missing.npy").toString();

        Object[][] cases = {
                {new String[] {"--q", missing, "--k", k}, "missing.npy: no such file"},
                {new String[] {"--q", q, "--k", text}, "not a NumPy .npy file"},
                {new String[] {"--q", q, "--k", truncated}, "truncated"},
                {new String[] {"--q", q, "--k", kOther}, "Q and K shapes differ"},
                {new String[] {"--q", q, "--k", kDouble}, "same dtype"},
                {new String[] {"--q", q, "--k", k, "--v", vBad}, "V must have the shape of Q"},
                {new String[] {"--q", rank1, "--k", rank1}, "[n, d], [H, n, d] or [B, H, n, d]"},
                {new String[] {"--q", rank5, "--k", rank5}, "[n, d], [H, n, d] or [B, H, n, d]"},
                {new String[] {"--q", empty, "--k", empty}, "n = 0"},
                {new String[] {"--q", q, "--k", k, "--frob"}, "Unknown option: '--frob'"},
                {new String[] {"--q", q}, "Missing required option: '--k=K.npy'"},
                {new String[] {"--q", q, "--k", k, "--mask", "diagonal"}, "--mask must be full or causal"},
                {new String[] {"--q", q, "--k", k, "--length", "0"}, "--length must be in 1..5"},
                {new String[] {"--q", q, "--k", k, "--length", "6"}, "--length must be in 1..5"},
                {new String[] {"--q", q, "--k", k, "--length", "x"}, "'x' is not an int"},
                {new String[] {"--q", q, "--k", k, "--mask", "causal", "--length", "3"}, "--mask causal"},
                {new String[] {"--q", q, "--k", k, "--scale", "0"}, "--scale must be positive"},
                {new String[] {"--q", q, "--k", k, "--scale", "-1"}, "--scale must be positive"},
                {new String[] {"--q", q, "--k", k, "--scale", "NaN"}, "--scale must be positive"},
                {new String[] {"--q", q, "--k", k, "--repeat", "0"}, "--repeat must be at least 1"},
        };
        for (Object[] c : cases) {
            String[] args = concat(new String[] {"qk"}, (String[]) c[0]);
            CliRun r = CliRun.of(args);
            String what = String.join(" ", args);
            assertThat(r.exitCode()).as(what).isEqualTo(2);
            assertThat(r.out()).as(what).isEmpty();
            assertThat(r.errLines()).as(what).singleElement().asString()
                    .startsWith("headwatch qk: ")
                    .contains((String) c[1])
                    .doesNotContain("Exception")
                    .doesNotContain("\tat ");
        }
    }

    // ------------------------------------------------------------ helpers

    /** A JSON value equals the metric exactly (Jackson's double output round-trips); NaN is null. */
    private static void assertField(Map<String, Object> line, HeadField f, double expected) {
        Object actual = line.get(f.fieldName());
        if (Double.isNaN(expected)) {
            assertThat(actual).as(f.fieldName()).isNull();
        } else {
            assertThat(actual).as(f.fieldName()).isInstanceOf(Number.class);
            assertThat(((Number) actual).doubleValue()).as(f.fieldName()).isEqualTo(expected);
        }
    }

    private static Map<String, Object> parse(String line) {
        try {
            return JSON.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + line, e);
        }
    }

    private static double mode(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        double best = s[0];
        int bestRun = 0;
        for (int i = 0; i < s.length; ) {
            int j = i;
            while (j < s.length && s[j] == s[i]) {
                j++;
            }
            if (j - i > bestRun) {
                bestRun = j - i;
                best = s[i];
            }
            i = j;
        }
        return best;
    }

    private Path save(String name, INDArray a) {
        Path f = dir.resolve(name);
        Npy.write(f, a);
        return f;
    }

    /** Seeded standard normal values. */
    private static INDArray random(DataType type, long seed, long... shape) {
        Random rnd = new Random(seed);
        double[] x = new double[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextGaussian();
        }
        return Nd4j.create(x, shape, 'c').castTo(type);
    }

    /** Head h of [H, n, d], or sequence s head h of [B, H, n, d], as a contiguous [n, d]. */
    private static INDArray slice(INDArray a, int... index) {
        org.nd4j.linalg.indexing.INDArrayIndex[] all = new org.nd4j.linalg.indexing.INDArrayIndex[a.rank()];
        for (int i = 0; i < a.rank(); i++) {
            all[i] = i < index.length ? NDArrayIndex.point(index[i]) : NDArrayIndex.all();
        }
        return a.get(all).dup('c');
    }

    private static String[] concat(String[] a, String[] b) {
        String[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
