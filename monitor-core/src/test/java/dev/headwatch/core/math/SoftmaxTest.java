package dev.headwatch.core.math;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The row softmax on values derived by hand: exp(ln w) = w, so logits ln 1, ln 2, ln 3 give 1/6, 2/6, 3/6. */
class SoftmaxTest {

    @Test
    void row_ofLogWeights_isTheNormalisedWeights_andLeavesTheRestOfTheArray() {
        double[] s = {9, 0, Math.log(2), Math.log(3), 9};
        Softmax.row(s, 1, 3, null);
        assertThat(s).containsExactly(new double[] {9, 1 / 6.0, 2 / 6.0, 3 / 6.0, 9}, within(1e-15));
    }

    @Test
    void row_hiddenEntries_areZero_andTheVisibleOnesShareTheMass() {
        double[] s = {0, Math.log(2), Math.log(3)};
        Softmax.row(s, 0, 3, new boolean[] {true, false, true});
        assertThat(s).containsExactly(new double[] {1 / 4.0, 0, 3 / 4.0}, within(1e-15));
    }

    @Test
    void row_largeLogits_doNotOverflow() {
        double[] s = {1000, 1000 + Math.log(3)}; // 1000 + ln 3 is rounded to 1000's ulp, 1.1e-13
        Softmax.row(s, 0, 2, null);
        assertThat(s).containsExactly(new double[] {0.25, 0.75}, within(1e-12));
    }

    @Test
    void row_withNothingVisible_isNaN() {
        double[] s = {1, 2};
        Softmax.row(s, 0, 2, new boolean[] {false, false});
        assertThat(s).containsOnly(Double.NaN);
    }
}
