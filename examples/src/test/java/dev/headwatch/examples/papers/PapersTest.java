package dev.headwatch.examples.papers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each reproduction, small and seeded, shows the paper's qualitative result. */
class PapersTest {

    @TempDir
    Path dir;

    @Test
    void signalRecovery_queryConvergesToSignalUpToSign_andFollowsTheOde() {
        // Small steps (eta0 = 0.1) so the runs are in the ODE's small-step regime; 8 runs for the mean.
        SignalRecovery.Config c = new SignalRecovery.Config(8, 300, 300, 1.0, 1.0, 1500, 0.1, 400, 8, 60, 11);
        SignalRecovery.Result r = SignalRecovery.run(c);
        // A random start in d = 8 has alignment about 1/sqrt(8) = 0.35.
        assertThat(r.trajectory()[0]).isLessThan(0.5);
        assertThat(r.min()).isGreaterThan(0.95);
        // The drift vanishes at m = 1 and is positive inside: (1 - m^2) f'(m) with f increasing in m.
        assertThat(r.drift()[r.drift().length - 1]).isZero();
        assertThat(r.drift()[SignalRecovery.GRID / 2]).isPositive();
        // The mean |m| of 8 runs follows the averaged ODE. Tolerance: while the runs escape from their random
        // starts their |m| differ by up to about 0.3 at a given time (the escape time grows like log(1/m(0)) and
        // the steps are noisy), so a mean of 8 is accurate to about 0.3 / sqrt(8) = 0.1; at the end the finite
        // step keeps |m| about 0.01 below the ODE's 1.
        assertThat(r.maxOdeGap()).isLessThan(0.1);
        assertThat(r.line()).startsWith("RESULT signal-recovery runs=8 ");
        assertThat(SignalRecovery.plot(r, dir.resolve("s.png"))).isNotEmptyFile();
    }

    @Test
    void linearRegime_errorToTheLinearLimitFallsLikeOneOverPromptLength() {
        LinearRegime.Result r = LinearRegime.run(new LinearRegime.Config(4, 16, 512, 2048, 0.35, 7));
        assertThat(r.series()).hasSize(3);
        for (LinearRegime.Series s : r.series()) {
            assertThat(s.populationSlope()).as(s.covariance()).isBetween(-1.4, -0.6);
            assertThat(s.slope()).as(s.covariance()).isNegative();
            assertThat(s.gap()[s.gap().length - 1]).isLessThan(s.gap()[0]);
        }
        assertThat(LinearRegime.plot(r, dir.resolve("l.png"))).isNotEmptyFile();
    }

    @Test
    void specialization_strongestFeatureFirstThenDistinctHeads() {
        Specialization.Config p = Specialization.Config.paper();
        Specialization.Config c = new Specialization.Config(p.dim(), p.length(), p.strengths(), p.heads(), p.noise(),
                p.batch(), p.lr(), p.init(), 8000, 100, 1);
        Specialization.Result r = Specialization.run(c);
        // Strengths 4, 2, 1: first every key aligns with the strongest feature, then a head splits off toward the
        // second; at the end the two have distinct heads.
        assertThat(Arrays.stream(r.kappa()[0]).flatMapToDouble(Arrays::stream).max().orElseThrow())
                .isLessThan(Specialization.STRICT);
        assertThat(r.specialisedAt()[0]).isPositive();
        assertThat(r.specialisedAt()[1]).isGreaterThan(r.specialisedAt()[0]);
        int last = r.kappa().length - 1;
        int headOf0 = argmax(r.kappa()[last], 0);
        int headOf1 = argmax(r.kappa()[last], 1);
        assertThat(headOf0).isNotEqualTo(headOf1);
        assertThat(r.kappa()[last][headOf0][0]).isGreaterThan(0.8);
        assertThat(r.kappa()[last][headOf1][1]).isGreaterThan(0.8);
        assertThat(Specialization.plot(r, dir.resolve("k.png"))).isNotEmptyFile();
    }

    private static int argmax(double[][] kappa, int feature) {
        int best = 0;
        for (int h = 1; h < kappa.length; h++) {
            if (kappa[h][feature] > kappa[best][feature]) {
                best = h;
            }
        }
        return best;
    }
}
