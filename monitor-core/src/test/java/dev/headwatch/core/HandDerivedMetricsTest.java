package dev.headwatch.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.headwatch.core.math.EnergyField;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The reference values at the end of METRICS.md, derived by hand. */
class HandDerivedMetricsTest {

    static INDArray m(double[][] rows) {
        return Nd4j.create(rows);
    }

    @Test
    void oneVisibleKey_rowIsZeroAndExcludedFromEntropy() {
        // CAUSAL, d = 1, tau = 1, q = (0, 1), k = (0, ln 3). Row 0 sees one key: E_0 = 0, excluded.
        // Row 1: S_1 = (1*0, 1*ln 3) = (0, ln 3), A_1 = (1/4, 3/4),
        // H = -(1/4 ln 1/4 + 3/4 ln 3/4) = ln 4 - (3/4) ln 3; entropy = H / ln 2.
        double ln3 = Math.log(3);
        HeadInput in = HeadInput.of(m(new double[][] {{0}, {1}}), m(new double[][] {{0}, {ln3}}), null,
                Visibility.CAUSAL, 1.0);
        double[][] e = EnergyField.energy(in);
        assertThat(e[0]).containsExactly(0.0, 0.0);
        // E_1 = S_1 - mean = (-ln3/2, ln3/2)
        assertThat(e[1][0]).isCloseTo(-ln3 / 2, within(1e-15));
        assertThat(e[1][1]).isCloseTo(ln3 / 2, within(1e-15));
        double expected = (Math.log(4) - 0.75 * ln3) / Math.log(2);
        assertThat(HeadAnalysis.compute(in).entropy()).isCloseTo(expected, within(1e-14));
        assertThat(EnergyField.attention(in)[1]).containsExactly(new double[] {0.25, 0.75}, within(1e-15));
    }

    @Test
    void allKeysEqual_energyZero_entropyOne_ranksZero_sharesUndefined() {
        // Every row's logits are equal, so E = 0 and A is uniform (entropy 1); sigma = 0 gives
        // effectiveRank = stableRank = topEnergy = 0; c = 0 leaves participation undefined; Kc = 0 has
        // rank 0, so key coherence is undefined.
        INDArray q = m(new double[][] {{1, 2}, {-3, 0}, {2, 1}, {0, 5}});
        INDArray k = m(new double[][] {{1, -1}, {1, -1}, {1, -1}, {1, -1}});
        for (Visibility vis : new Visibility[] {Visibility.FULL, Visibility.CAUSAL, Visibility.padded(3)}) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                HeadMetrics h = HeadAnalysis.compute(HeadInput.of(q.castTo(type), k.castTo(type), null, vis, 1.0));
                assertThat(h.energyRms()).as("%s", vis).isZero();
                assertThat(h.entropy()).isCloseTo(1.0, within(1e-6));
                assertThat(h.effectiveRank()).isZero();
                assertThat(h.stableRank()).isZero();
                assertThat(h.topEnergy()).isZero();
                assertThat(h.numericalRank()).isZero();
                assertThat(h.participation()).isNaN();
                assertThat(h.maxKeyShare()).isNaN();
                assertThat(h.keyCoherence()).isNaN();
                assertThat(h.keyCoherenceNoFirst()).isNaN();
                assertThat(h.zeroSumResidual()).isZero();
            }
        }
    }

    @Test
    void zeroQueries_energyZero_attentionUniform() {
        // Q = 0: S = 0, so E = 0 and A_ij = 1/n_i; FULL n = 3: every key receives 1/3 (sinkMax 1/3 at 0).
        INDArray q = Nd4j.zeros(DataType.DOUBLE, 3, 2);
        INDArray k = m(new double[][] {{1, 2}, {3, -1}, {0, 4}});
        HeadInput in = HeadInput.of(q, k, null, Visibility.FULL, Double.NaN);
        for (double[] row : EnergyField.energy(in)) {
            assertThat(row).containsOnly(0.0);
        }
        for (double[] row : EnergyField.attention(in)) {
            assertThat(row).containsExactly(new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}, within(1e-15));
        }
        HeadMetrics h = HeadAnalysis.compute(in);
        assertThat(h.entropy()).isCloseTo(1.0, within(1e-15));
        assertThat(h.sinkMax()).isCloseTo(1 / 3.0, within(1e-15));
        assertThat(h.sinkPosition()).isZero();
        assertThat(h.maxLogit()).isZero();
        // keys are distinct: Kc has rank 2 = m - 1, each leverage is 1 - 1/m, coherence (3/2)(2/3) = 1
        assertThat(h.keyCoherence()).isCloseTo(1.0, within(1e-12));
    }

    @Test
    void fullWithDAtLeastN_rankBoundIsNMinusOne() {
        // E 1 = tau Q Kc^T 1 = 0: the all-ones vector is in the null space, so rank(E) <= n - 1 even for d >= n.
        java.util.Random rnd = new java.util.Random(3);
        for (int n = 2; n <= 9; n++) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                int d = n + rnd.nextInt(4);
                INDArray q = WeightAnalysisTest.gaussian(rnd, n, d).castTo(type);
                INDArray k = WeightAnalysisTest.gaussian(rnd, n, d).castTo(type);
                HeadMetrics h = HeadAnalysis.compute(HeadInput.of(q, k, null, Visibility.FULL, Double.NaN));
                assertThat(h.rankBound()).isEqualTo(n - 1);
                assertThat(h.numericalRank()).as("n=%d d=%d %s", n, d, type).isEqualTo(n - 1);
            }
        }
    }

    @Test
    void rankOneEnergy_allRankFiguresAreOne() {
        // d = 1: E = tau q kc^T is rank one (u v^T), sigma = (s, 0, ...): p = (1, 0, ...), so
        // effectiveRank = exp(0) = 1, stableRank = s^2/s^2 = 1, topEnergy = 1, numericalRank = 1.
        INDArray q = m(new double[][] {{1}, {-2}, {0.5}, {3}});
        INDArray k = m(new double[][] {{2}, {1}, {-1}, {0}});
        HeadMetrics h = HeadAnalysis.compute(HeadInput.of(q, k, null, Visibility.FULL, 1.0));
        assertThat(h.effectiveRank()).isCloseTo(1.0, within(1e-12));
        assertThat(h.stableRank()).isCloseTo(1.0, within(1e-12));
        assertThat(h.topEnergy()).isCloseTo(1.0, within(1e-12));
        assertThat(h.numericalRank()).isEqualTo(1);
    }

    @Test
    void singleKeySharingAllEnergy_participationIsOneOverM() {
        // FULL n = 3, d = 1, tau = 1, q = (1, 1, 1), k = (3, 0, 0): kbar = 1, E_i = (2, -1, -1) for every row.
        // c = (4, 1, 1), s = (2/3, 1/6, 1/6), sum s^2 = 4/9 + 1/18 = 1/2: participation = 2/3, maxKeyShare 2/3.
        HeadInput in = HeadInput.of(m(new double[][] {{1}, {1}, {1}}), m(new double[][] {{3}, {0}, {0}}), null,
                Visibility.FULL, 1.0);
        HeadMetrics h = HeadAnalysis.compute(in);
        assertThat(h.participation()).isCloseTo(2 / 3.0, within(1e-15));
        assertThat(h.maxKeyShare()).isCloseTo(2 / 3.0, within(1e-15));
        // energyRms = sqrt(3 * (4 + 1 + 1) / 9) = sqrt(2)
        assertThat(h.energyRms()).isCloseTo(Math.sqrt(2), within(1e-15));
        // Kc = (2, -1, -1), G = 6, leverages (4/6, 1/6, 1/6), r = 1: keyCoherence = 3 * 2/3 = 2.
        assertThat(h.keyCoherence()).isCloseTo(2.0, within(1e-14));
        // without key 0: keys (0, 0) are equal, Kc = 0, r = 0: undefined
        assertThat(h.keyCoherenceNoFirst()).isNaN();
    }

    @Test
    void linearGap_gaussianLinearRegime_constantValuesUndefined() {
        // V constant: o_i = vbar for every row, so 0/0: undefined. CAUSAL: undefined by definition.
        INDArray q = m(new double[][] {{1, 0}, {0, 1}, {1, 1}});
        INDArray k = m(new double[][] {{0, 1}, {1, 0}, {2, 2}});
        INDArray v = m(new double[][] {{5}, {5}, {5}});
        assertThat(HeadAnalysis.compute(HeadInput.of(q, k, v, Visibility.FULL, 1.0)).linearGap()).isNaN();
        assertThat(HeadAnalysis.compute(HeadInput.of(q, k, m(new double[][] {{1}, {2}, {4}}), Visibility.CAUSAL, 1.0))
                .linearGap()).isNaN();
        assertThat(HeadAnalysis.compute(HeadInput.of(q, k, null, Visibility.FULL, 1.0)).linearGap()).isNaN();
    }

    @Test
    void nonFiniteInput_givesNaN_neverThrows() {
        INDArray q = m(new double[][] {{1, 0}, {0, 1}, {2, Double.NaN}}); // row 2 sees keys under every mask
        INDArray k = m(new double[][] {{0, 1}, {1, 0}, {2, 2}});
        for (Visibility vis : new Visibility[] {Visibility.FULL, Visibility.CAUSAL}) {
            HeadMetrics h = HeadAnalysis.compute(HeadInput.of(q, k, null, vis, 1.0));
            assertThat(h.maxLogit()).isNaN();
            assertThat(h.entropy()).isNaN();
            assertThat(h.effectiveRank()).isNaN();
        }
    }

    @Test
    void layer_rejectsHeadsOfDifferentLength_namingBothShapes() {
        HeadInput a = HeadInput.of(Nd4j.ones(3, 2), Nd4j.ones(3, 2), null, Visibility.FULL, Double.NaN);
        HeadInput b = HeadInput.of(Nd4j.ones(4, 2), Nd4j.ones(4, 2), null, Visibility.FULL, Double.NaN);
        assertThatThrownBy(() -> LayerAnalysis.compute(List.of(a, b)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4 queries and 4 keys").hasMessageContaining("head 0 has 3 and 3");
        assertThatThrownBy(() -> LayerAnalysis.compute(List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void layer_singleHead_redundancyUndefined() {
        HeadInput a = HeadInput.of(m(new double[][] {{1}, {2}}), m(new double[][] {{0}, {1}}), null, Visibility.FULL, 1.0);
        LayerMetrics layer = LayerAnalysis.compute(List.of(a));
        assertThat(layer.heads().get(0).maxRedundancy()).isNaN();
        assertThat(layer.heads().get(0).redundancyPartner()).isNaN();
        assertThat(layer.energyCorrelation(0, 0)).isCloseTo(1.0, within(1e-15));
        assertThat(layer.attentionJsd(0, 0)).isZero();
    }

    @Test
    void aggregate_meanOfDefinedValues_modeForPositions() {
        HeadMetrics a = HeadMetrics.builder().set(HeadField.ENTROPY, 0.2).set(HeadField.SINK_POSITION, 3)
                .set(HeadField.REDUNDANCY_PARTNER, 1).set(HeadField.PARTICIPATION, 0.5).build();
        HeadMetrics b = HeadMetrics.builder().set(HeadField.ENTROPY, 0.4).set(HeadField.SINK_POSITION, 0)
                .set(HeadField.REDUNDANCY_PARTNER, 2).build();
        HeadMetrics c = HeadMetrics.builder().set(HeadField.ENTROPY, 0.9).set(HeadField.SINK_POSITION, 3)
                .set(HeadField.REDUNDANCY_PARTNER, 2).build();
        HeadMetrics d = HeadMetrics.builder().set(HeadField.ENTROPY, 0.1).set(HeadField.SINK_POSITION, 0)
                .set(HeadField.REDUNDANCY_PARTNER, 1).build();
        HeadMetrics agg = HeadMetrics.aggregate(List.of(a, b, c, d));
        // mean (0.2 + 0.4 + 0.9 + 0.1) / 4 = 0.4; participation defined once: 0.5; the rest all NaN
        assertThat(agg.entropy()).isCloseTo(0.4, within(1e-15));
        assertThat(agg.participation()).isEqualTo(0.5);
        assertThat(agg.maxLogit()).isNaN();
        // positions 3, 0, 3, 0: a tie, lowest wins -> 0; partners 1, 2, 2, 1: tie -> 1
        assertThat(agg.sinkPosition()).isZero();
        assertThat(agg.redundancyPartner()).isEqualTo(1);
        assertThat(HeadMetrics.aggregate(List.of(a, c, c)).sinkPosition()).isEqualTo(3);
        assertThatThrownBy(() -> HeadMetrics.aggregate(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
