package dev.headwatch.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class NonConvergenceTest {

    @Test
    void aThrowingFactorisation_givesNull_andIsCounted_aConvergedOneIsReturned() {
        AtomicInteger count = new AtomicInteger();
        assertThat(NonConvergence.<double[]>orNull(() -> {
            throw new IllegalStateException("tridiagonal QL iteration did not converge");
        }, "spectrum", count::incrementAndGet)).isNull();
        assertThat(NonConvergence.orNull(() -> 2.0, "spectrum", count::incrementAndGet)).isEqualTo(2.0);
        assertThat(count).hasValue(1);
    }

    @Test
    void theCountOfAHead_survivesEditsAndSumsOverSequences() {
        HeadMetrics one = HeadMetrics.builder().set(HeadField.ENTROPY, 0.2).countNonConverged().build();
        HeadMetrics two = HeadMetrics.builder().set(HeadField.ENTROPY, 0.4).countNonConverged().countNonConverged().build();
        assertThat(one.toBuilder().set(HeadField.MAX_LOGIT, 3).build().nonConverged()).isEqualTo(1);
        HeadMetrics both = HeadMetrics.aggregate(List.of(one, two, HeadMetrics.builder().build()));
        assertThat(both.nonConverged()).isEqualTo(3);
        assertThat(both.entropy()).isEqualTo(0.30000000000000004);
    }
}
