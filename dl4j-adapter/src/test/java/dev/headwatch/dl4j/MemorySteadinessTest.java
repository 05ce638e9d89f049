package dev.headwatch.dl4j;

import dev.headwatch.core.Observation;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A long run keeps memory flat: nothing of an observation is kept past its use. DL4J's own heap use
 * drifts over such a run (about 30 MB here), so the monitored run is compared with an unmonitored one.
 */
@Tag("slow")
class MemorySteadinessTest {

    private static final int ITERATIONS = 2_000;
    private static final int SETTLE = 200;

    @Test
    void twoThousandIterations_holdMemorySteady() {
        long[] control = growth(null);
        AtomicLong heads = new AtomicLong();
        AttentionMonitorListener listener = AttentionMonitorListener.builder().maxSequences(2)
                .sink((Observation o) -> heads.addAndGet(o.heads().size())).build();
        long[] monitored = growth(listener);
        listener.close();

        assertThat(heads.get()).isEqualTo(2L * ITERATIONS);
        // 1,800 kept observations (2 heads x 2 sequences x 3 arrays each, plus records) would add megabytes.
        assertThat(monitored[0] - control[0]).as("extra heap growth").isLessThan(8L << 20);
        assertThat(monitored[1] - control[1]).as("extra native growth").isLessThan(8L << 20);
    }

    /** Heap and native growth from iteration 200 to 2,000 of a fresh network with the listener (or none). */
    private static long[] growth(AttentionMonitorListener listener) {
        MultiLayerNetwork net = TestNets.selfAttentionOnly();
        if (listener != null) {
            net.setListeners(listener);
        }
        DataSet[] batches = {TestNets.data(4, 1, false), TestNets.data(4, 2, true)};
        long[] atSettle = null;
        for (int i = 0; i < ITERATIONS; i++) {
            net.fit(batches[i % 2]);
            if (i == SETTLE) {
                atSettle = usage();
            }
        }
        long[] atEnd = usage();
        return new long[]{atEnd[0] - atSettle[0], atEnd[1] - atSettle[1]};
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
