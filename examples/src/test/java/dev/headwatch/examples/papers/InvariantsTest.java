package dev.headwatch.examples.papers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The invariants on a briefly trained demo model. */
class InvariantsTest {

    @TempDir
    Path dir;

    @Test
    void invariants_zeroSumAtFloatPrecision_rankCliffAtHeadDim_spreadEnergyAtEveryContext() {
        Invariants.Config c = new Invariants.Config(12, 3, new int[] {64, 128}, 2, 1, 5, dir);
        Invariants.Result r = Invariants.run(c, new PrintStream(OutputStream.nullOutputStream()));
        // Fully centred E = tau Q Kc^T has rank <= headDim = 16: sigma_16 / sigma_17 is a cliff of many decades.
        assertThat(r.headDim()).isEqualTo(16);
        assertThat((int) r.numericalRank()).isEqualTo(16);
        assertThat(r.cliff()).isGreaterThan(1e3);
        assertThat(r.contexts()).hasSize(2).allSatisfy(at -> {
            assertThat(at.maxZeroSumResidual()).isLessThan(1e-4);
            assertThat(at.participation()).isGreaterThan(0.25);
            assertThat(at.keyCoherence()).isGreaterThanOrEqualTo(1.0);
        });
        assertThat(r.steps()).hasSize(3);
        assertThat(r.line()).startsWith("RESULT invariants ").contains("participation128=");
        assertThat(Invariants.plot(r, dir.resolve("i.png"))).isNotEmptyFile();
    }
}
