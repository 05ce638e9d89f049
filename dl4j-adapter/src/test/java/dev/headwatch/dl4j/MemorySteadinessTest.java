package dev.headwatch.dl4j;

import dev.headwatch.core.Observation;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** A long run keeps heap and native memory flat: nothing of an observation is kept past its use. */
@Tag("slow")
class MemorySteadinessTest {

    private static final int ITERATIONS = 2_000;
    private static final int SETTLE = 200;

    @Test
    void twoThousandIterations_holdMemorySteady() {
        MultiLayerNetwork net = TestNets.selfAttentionOnly();
        AtomicLong heads = new AtomicLong();
        AttentionMonitorListener listener = AttentionMonitorListener.builder().maxSequences(2)
                .sink((Observation o) -> heads.addAndGet(o.heads().size())).build();
        net.setListeners(listener);
        DataSet[] batches = {TestNets.data(4, 1, false), TestNets.data(4, 2, true)};
        long[] atSettle = null;
        for (int i = 0; i < ITERATIONS; i++) {
            net.fit(batches[i % 2]);
            if (i == SETTLE) {
                atSettle = usage();
            }
        }
        long[] atEnd = usage();
        listener.close();

        assertThat(heads.get()).isPositive();
        // Growth from iteration 200 to 2,000: far less than what 1,800 kept observations would take
        // (each holds 2 heads x 2 sequences x 3 arrays plus its records).
        assertThat(atEnd[0] - atSettle[0]).as("heap growth").isLessThan(16L << 20);
        assertThat(atEnd[1] - atSettle[1]).as("native growth").isLessThan(16L << 20);
    }

    /** Heap in use after a collection, and the native bytes JavaCPP has allocated. */
    private static long[] usage() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return new long[]{rt.totalMemory() - rt.freeMemory(), Pointer.totalBytes()};
    }
}
