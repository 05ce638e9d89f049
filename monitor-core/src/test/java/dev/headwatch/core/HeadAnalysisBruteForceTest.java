package dev.headwatch.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.headwatch.core.math.Spectrum;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fast paths against the dense brute force of {@link Reference}, over seeded random shapes: self-attention
 * ({@code nk = n}) under every visibility, and cross-attention ({@code nk != n}, FULL).
 */
class HeadAnalysisBruteForceTest {

    record Case(int n, int nk, int d, Visibility visibility, DataType type, boolean withV, long seed) {
        Case(int n, int d, Visibility visibility, DataType type, boolean withV, long seed) {
            this(n, n, d, visibility, type, withV, seed);
        }

        @Override
        public String toString() {
            return "n=" + n + (nk != n ? " nk=" + nk : "") + " d=" + d + " " + visibility + " " + type
                    + (withV ? " +V" : "") + " seed=" + seed;
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        Random rnd = new Random(7);
        int[][] shapes = {{1, 1}, {1, 4}, {2, 1}, {3, 5}, {5, 8}, {6, 3}, {9, 9}, {19, 6}};
        long seed = 1;
        for (int[] shape : shapes) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                int n = shape[0];
                cases.add(new Case(n, shape[1], Visibility.FULL, type, true, seed++));
                cases.add(new Case(n, shape[1], Visibility.CAUSAL, type, true, seed++));
                cases.add(new Case(n, shape[1], Visibility.padded(1 + rnd.nextInt(n)), type, true, seed++));
                cases.add(new Case(n, shape[1], Visibility.padded(n), type, false, seed++));
            }
        }
        // cross-attention: n queries, nk keys (fewer, more, one query, one key, more keys than d)
        int[][] cross = {{2, 4, 3}, {5, 3, 2}, {1, 6, 4}, {7, 2, 3}, {3, 9, 16}, {6, 1, 2}, {4, 11, 3}};
        for (int[] shape : cross) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                cases.add(new Case(shape[0], shape[1], shape[2], Visibility.FULL, type, true, seed++));
                cases.add(new Case(shape[0], shape[1], shape[2], Visibility.FULL, type, false, seed++));
            }
        }
        return cases.stream();
    }

    static HeadInput input(Case c) {
        Random rnd = new Random(c.seed());
        INDArray q = gaussian(rnd, c.n(), c.d(), 1.5, c.type());
        INDArray k = gaussian(rnd, c.nk(), c.d(), 1.5, c.type());
        // a key offset common to all positions: centring must remove it
        k.addiRowVector(gaussian(rnd, 1, c.d(), 2.0, c.type()));
        INDArray v = c.withV() ? gaussian(rnd, c.nk(), 3, 1.0, c.type()) : null;
        return HeadInput.of(q, k, v, c.visibility(), c.seed() % 3 == 0 ? 0.7 : Double.NaN);
    }

    static INDArray gaussian(Random rnd, int rows, int cols, double scale, DataType type) {
        double[] x = new double[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = scale * rnd.nextGaussian();
        }
        return Nd4j.create(x, new long[] {rows, cols}, 'c').castTo(type);
    }

    static double tolerance(Case c) {
        return c.type() == DataType.DOUBLE ? 1e-9 : 2e-4;
    }

    static void close(double actual, double expected, double tol, String what) {
        if (Double.isNaN(expected)) {
            assertThat(actual).as(what).isNaN();
        } else {
            assertThat(actual).as(what).isCloseTo(expected, within(tol * Math.max(1, Math.abs(expected))));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void headMetrics_matchDenseBruteForce(Case c) {
        HeadInput in = input(c);
        Reference ref = new Reference(in);
        HeadMetrics m = HeadAnalysis.compute(in);
        double tol = tolerance(c);
        close(m.maxLogit(), ref.maxLogit(), tol, "maxLogit");
        close(m.energyRms(), ref.energyRms(), tol, "energyRms");
        close(m.effectiveRank(), ref.effectiveRank(), tol * 10, "effectiveRank");
        close(m.stableRank(), ref.stableRank(), tol, "stableRank");
        close(m.topEnergy(), ref.topEnergy(), tol, "topEnergy");
        int rank = ref.numericalRankOrAmbiguous();
        if (rank >= 0) {
            assertThat(m.numericalRank()).as("numericalRank").isEqualTo(rank);
        }
        close(m.participation(), ref.participation(), tol, "participation");
        close(m.maxKeyShare(), ref.maxKeyShare(), tol, "maxKeyShare");
        close(m.keyCoherence(), ref.keyCoherence(0, ref.m), tol * 10, "keyCoherence");
        close(m.keyCoherenceNoFirst(), ref.keyCoherence(1, ref.m - 1), tol * 10, "keyCoherenceNoFirst");
        close(m.entropy(), ref.entropy(), tol, "entropy");
        double[] sinks = ref.sinks();
        close(m.sinkMax(), sinks[0], tol, "sinkMax");
        close(m.firstKeyMass(), sinks[2], tol, "firstKeyMass");
        if (c.type() == DataType.DOUBLE) {
            assertThat(m.sinkPosition()).as("sinkPosition").isEqualTo(sinks[1]);
        }
        close(m.linearGap(), ref.linearGap(), tol * 10, "linearGap");
        assertThat(m.zeroSumResidual()).as("zeroSumResidual").isLessThan(c.type() == DataType.DOUBLE ? 1e-13 : 1e-5);
        assertThat(m.reconstructionError()).isNaN();
        assertThat(m.maxRedundancy()).isNaN();
        assertThat(m.redundancyPartner()).isNaN();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void singularValues_matchDenseSvd_sortedAndLengthMinOfQueriesAndKeys(Case c) {
        HeadInput in = input(c);
        Reference ref = new Reference(in);
        double[] sigma = Spectrum.singularValues(in);
        assertThat(sigma).hasSize(Math.min(c.n(), c.nk()));
        for (int i = 0; i < sigma.length; i++) {
            assertThat(sigma[i]).isCloseTo(ref.sigma[i], within(tolerance(c) * Math.max(1, ref.sigma[0])));
            if (i > 0) {
                assertThat(sigma[i]).isLessThanOrEqualTo(sigma[i - 1]);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void invariants_rankBoundAndKeyShareBound(Case c) {
        HeadInput in = input(c);
        HeadMetrics m = HeadAnalysis.compute(in);
        if (c.visibility().kind() == Visibility.Kind.CAUSAL) {
            assertThat(m.rankBound()).isNaN();
            return;
        }
        int len = c.visibility().kind() == Visibility.Kind.PADDED ? c.visibility().length() : c.nk();
        int rows = c.visibility().kind() == Visibility.Kind.PADDED ? len : c.n();
        assertThat(m.rankBound()).isEqualTo(Math.min(c.d(), Math.min(rows, len - 1)));
        assertThat(m.numericalRank()).isLessThanOrEqualTo(m.rankBound());
        if (m.stableRank() > 0) {
            // s_j <= l_j / stableRank for every j, hence maxKeyShare <= max_j l_j / stableRank, and
            // max_j l_j = keyCoherence * r / m with r = rank(Kc) = min(len - 1, d) for Gaussian keys.
            double maxLeverage = m.keyCoherence() * Math.min(len - 1, c.d()) / len;
            assertThat(m.maxKeyShare()).isLessThanOrEqualTo(maxLeverage / m.stableRank() * (1 + 1e-6));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void compute_doesNotMutateInputs(Case c) {
        HeadInput in = input(c);
        INDArray q = in.q().dup(), k = in.k().dup(), v = in.v() == null ? null : in.v().dup();
        LayerAnalysis.compute(List.of(in, in));
        Spectrum.singularValues(in);
        assertThat(in.q()).isEqualTo(q);
        assertThat(in.k()).isEqualTo(k);
        if (v != null) {
            assertThat(in.v()).isEqualTo(v);
        }
    }

    @Test
    void layer_matchesDenseBruteForce_forEveryMask_andCrossAttention() {
        for (Visibility vis : new Visibility[] {Visibility.FULL, Visibility.CAUSAL, Visibility.padded(9), null}) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                List<HeadInput> heads = new ArrayList<>();
                List<Reference> refs = new ArrayList<>();
                for (int h = 0; h < 4; h++) {
                    // null: cross-attention, 13 queries over 5 keys
                    HeadInput in = input(vis == null ? new Case(13, 5, 3 + h, Visibility.FULL, type, false, 100 + h)
                            : new Case(13, 3 + h, vis, type, false, 100 + h));
                    heads.add(in);
                    refs.add(new Reference(in));
                }
                heads.add(heads.get(1)); // an exact copy of head 1: correlation 1, divergence 0
                refs.add(refs.get(1));
                LayerMetrics layer = LayerAnalysis.compute(heads);
                double tol = type == DataType.DOUBLE ? 1e-9 : 2e-4;
                for (int h = 0; h < heads.size(); h++) {
                    for (int g = 0; g < heads.size(); g++) {
                        assertThat(layer.energyCorrelation(h, g)).as("corr %s %d %d", vis, h, g)
                                .isCloseTo(Reference.correlation(refs.get(h), refs.get(g)), within(tol));
                        assertThat(layer.attentionJsd(h, g)).as("jsd %s %d %d", vis, h, g)
                                .isCloseTo(h == g ? 0 : Reference.jsd(refs.get(h), refs.get(g)), within(tol));
                    }
                }
                assertThat(layer.heads().get(1).redundancyPartner()).isEqualTo(4);
                assertThat(layer.heads().get(4).redundancyPartner()).isEqualTo(1);
                assertThat(layer.heads().get(4).maxRedundancy()).isCloseTo(1.0, within(1e-12));
                for (int h = 0; h < heads.size(); h++) {
                    double best = Double.NEGATIVE_INFINITY;
                    for (int g = 0; g < heads.size(); g++) {
                        if (g != h) {
                            best = Math.max(best, layer.energyCorrelation(h, g));
                        }
                    }
                    assertThat(layer.heads().get(h).maxRedundancy()).isEqualTo(best);
                }
            }
        }
    }
}
