package dev.headwatch.examples.papers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each reproduction, small and seeded, shows the paper's qualitative result. */
class PapersTest {

    @TempDir
    Path dir;

    @Test
    void signalRecovery_queryConvergesToSignalUpToSign_andFollowsTheOde() {
        SignalRecovery.Config c = new SignalRecovery.Config(8, 300, 300, 1.0, 1.0, 400, 1.0, 50, 3, 60, 11);
        SignalRecovery.Result r = SignalRecovery.run(c);
        // A random start in d = 8 has alignment about 1/sqrt(8) = 0.35.
        assertThat(r.trajectory()[0]).isLessThan(0.8);
        assertThat(r.min()).isGreaterThan(0.9);
        assertThat(r.ode()[r.ode().length - 1]).isGreaterThan(0.9);
        assertThat(r.line()).startsWith("RESULT signal-recovery runs=3 ");
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
    void specialization_plateauThenDistinctHeadsForTheStrongFeatures() {
        Specialization.Config p = Specialization.Config.paper();
        Specialization.Config c = new Specialization.Config(p.dim(), p.length(), p.strengths(), p.heads(), p.noise(),
                p.batch(), p.lr(), p.init(), 8000, 100, 1);
        Specialization.Result r = Specialization.run(c);
        // Unspecialised at the start, then the two strongest features each get a head of their own (which of
        // the two comes first varies with the seed).
        assertThat(Specialization.STRICT).isGreaterThan(0.74);
        assertThat(r.specialisedAt()[0]).isPositive();
        assertThat(r.specialisedAt()[1]).isPositive();
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
