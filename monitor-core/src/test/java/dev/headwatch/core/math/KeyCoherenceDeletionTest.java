package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code keyCoherenceNoFirst} by the hat-matrix deletion update against the same figure computed afresh on
 * keys 1..m-1 ({@link KeyIncoherence#coherence(double[], int, int, int, double)}, itself checked against the
 * brute-force reference), and the cases where the update must step aside.
 */
class KeyCoherenceDeletionTest {

    private static final double EPS64 = Spectrum.unitRoundoff(true);
    private static final double EPS32 = Spectrum.unitRoundoff(false);

    private static double[] gaussian(int m, int d, Random random) {
        double[] k = new double[m * d];
        for (int i = 0; i < k.length; i++) {
            k[i] = random.nextGaussian();
        }
        return k;
    }

    /** The update's value, which must exist, against the fresh computation. */
    private static void updateMatchesFresh(double[] k, int m, int d, double eps, String what) {
        double fresh = KeyIncoherence.coherence(k, 1, m - 1, d, eps);
        double update = KeyIncoherence.withoutFirstByUpdate(CentredKeys.of(k, 0, m, d), eps);
        assertThat(update).as(what).isCloseTo(fresh, within(1e-11 * fresh));
        assertThat(KeyIncoherence.coherenceWithAndWithoutFirst(CentredKeys.of(k, 0, m, d), eps)[1]).as(what)
                .isEqualTo(update);
    }

    @Test
    void fullRankKeys_updateMatchesTheFreshFactorisation() {
        Random random = new Random(3);
        for (int[] md : new int[][] {{32, 16}, {64, 16}, {20, 4}, {12, 2}, {8, 1}, {48, 32}}) {
            for (int seed = 0; seed < 5; seed++) {
                updateMatchesFresh(gaussian(md[0], md[1], random), md[0], md[1], EPS64, "m=" + md[0] + " d=" + md[1]);
                updateMatchesFresh(gaussian(md[0], md[1], random), md[0], md[1], EPS32, "float32 m=" + md[0]);
            }
        }
    }

    @Test
    void rankDeficientKeys_updateMatchesTheFreshFactorisation() {
        // one-hot tokens over 5 symbols: rank 4 of 16 columns, and key 0 repeats a token others use
        Random random = new Random(5);
        int m = 32, d = 16;
        double[] w = gaussian(5, d, random);
        double[] k = new double[m * d];
        for (int i = 0; i < m; i++) {
            System.arraycopy(w, (i == 0 ? 0 : i % 5) * d, k, i * d, d);
        }
        updateMatchesFresh(k, m, d, EPS32, "one-hot");
    }

    @Test
    void aKeyOfItsOwnDirection_isFactoredAfresh() {
        Random random = new Random(7);
        int m = 32, d = 16;
        double[] k = new double[m * d];
        double[] basis = gaussian(6, d, random);
        for (int i = 0; i < m; i++) {
            for (int t = 0; t < 6; t++) {
                double c = random.nextGaussian();
                for (int col = 0; col < d; col++) {
                    k[i * d + col] += c * basis[t * d + col];
                }
            }
        }
        k[d - 1] += 10;   // key 0 spans a direction no other key does: its leverage is (m-1)/m
        assertThat(KeyIncoherence.withoutFirstByUpdate(CentredKeys.of(k, 0, m, d), EPS64)).isNaN();
        double fresh = KeyIncoherence.coherence(k, 1, m - 1, d, EPS64);
        assertThat(KeyIncoherence.coherenceWithAndWithoutFirst(CentredKeys.of(k, 0, m, d), EPS64)[1]).isEqualTo(fresh);
    }

    @Test
    void asManyKeysAsDimensionsPlusOne_isFactoredAfresh() {
        // m - 1 = d: every centred leverage is (m-1)/m, and without key 0 the rank drops to m - 2
        Random random = new Random(9);
        int d = 8, m = d + 1;
        double[] k = gaussian(m, d, random);
        assertThat(KeyIncoherence.withoutFirstByUpdate(CentredKeys.of(k, 0, m, d), EPS64)).isNaN();
        assertThat(KeyIncoherence.coherenceWithAndWithoutFirst(CentredKeys.of(k, 0, m, d), EPS64)[1])
                .isEqualTo(KeyIncoherence.coherence(k, 1, m - 1, d, EPS64));
    }

    @Test
    void twoOrFewerKeys_withoutFirstIsUndefined() {
        double[] k = {1, 2, 3, 5};
        assertThat(KeyIncoherence.coherenceWithAndWithoutFirst(CentredKeys.of(k, 0, 2, 2), EPS64)[1]).isNaN();
        assertThat(KeyIncoherence.coherenceWithAndWithoutFirst(CentredKeys.of(k, 0, 1, 2), EPS64)).containsOnly(Double.NaN);
    }

    @Test
    void byHand_threeKeysOnALine() {
        // keys 0, 1, 3 on a line (d = 1): without key 0 two keys remain, each of leverage 1/2, so 2/1 * 1/2 = 1;
        // with all three, centred at 4/3: (m/r) max l = 3 * (25/9) / (14/3) = 25/14
        double[] k = {0, 1, 3};
        double[] both = KeyIncoherence.coherenceWithAndWithoutFirst(CentredKeys.of(k, 0, 3, 1), EPS64);
        assertThat(both[0]).isCloseTo(25.0 / 14, within(1e-14));
        assertThat(both[1]).isCloseTo(1.0, within(1e-14));
        assertThat(KeyIncoherence.withoutFirstByUpdate(CentredKeys.of(k, 0, 3, 1), EPS64)).isCloseTo(1.0, within(1e-14));
    }
}
