package dev.headwatch.examples.bench;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class StepCpuTest {

    @Test
    void sameTraining_ofSteadySteps_isOne() {
        long[] wall = new long[1500];
        Arrays.fill(wall, 25_000_000L);
        assertThat(StepCpu.sameTraining(wall, 100, new SplittableRandom(3))).containsOnly(1.0);
    }

    @Test
    void sameTraining_ofTwoKindsOfBlocks_matchesTheHypergeometricCount() {
        // 100 blocks, 50 of 1 ns steps and 50 of 2 ns: the two sets take every block, so a set with k slow
        // blocks has the median 1 (k < 25), 1.5 (k = 25) or 2, and the other set 50 - k of them. The ratio is
        // 1 exactly when k = 25: C(50,25)^2 / C(100,50) = 0.15838 of the draws; 2 and 0.5 equally otherwise.
        long[] wall = new long[100 * StepCpu.BLOCK];
        for (int i = 0; i < wall.length; i++) {
            wall[i] = i / StepCpu.BLOCK % 2 + 1;
        }
        int draws = 20_000;
        double[] r = StepCpu.sameTraining(wall, draws, new SplittableRandom(5));
        assertThat(r).containsOnly(0.5, 1.0, 2.0);
        assertThat(share(r, 1.0)).isCloseTo(0.15838, within(0.01));
        assertThat(share(r, 2.0)).isCloseTo(share(r, 0.5), within(0.02));
    }

    @Test
    void sameTraining_needsTwoWaysOfSteps() {
        assertThatThrownBy(() -> StepCpu.sameTraining(new long[999], 10, new SplittableRandom(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("needs 1000 timed steps but has 999");
    }

    private static double share(double[] r, double value) {
        return Arrays.stream(r).filter(x -> x == value).count() / (double) r.length;
    }
}
