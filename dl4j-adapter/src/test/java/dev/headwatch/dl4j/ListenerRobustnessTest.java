package dev.headwatch.dl4j;

import dev.headwatch.core.HeadMetrics;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.CrashReportingUtil;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the listener and the extractor must never do to the host: hide a failing JVM, guess without masks, change the model. */
class ListenerRobustnessTest {

    @Test
    void outOfMemoryInTheMetrics_stopsTheMonitor_andPropagatesThroughFit() {
        MultiLayerNetwork net = TestNets.selfAttentionOnly();
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(false).analyzer(heads -> {
            throw new OutOfMemoryError("Java heap space (test)");
        }).build();
        net.setListeners(listener);
        // DL4J writes a memory crash dump for an OutOfMemoryError escaping fit(): not for this one
        boolean dumps = CrashReportingUtil.isCrashDumpsEnabled();
        CrashReportingUtil.crashDumpsEnabled(false);
        try {
            assertThatThrownBy(() -> net.fit(TestNets.data(2, 1, false))).isInstanceOf(OutOfMemoryError.class);
        } finally {
            CrashReportingUtil.crashDumpsEnabled(dumps);
        }
        assertThat(listener.monitor().shouldObserve(0)).isFalse();
        listener.close();
    }

    @Test
    void anyOtherErrorInTheMetrics_neverReachesFit() {
        MultiLayerNetwork net = TestNets.selfAttentionOnly();
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(false).analyzer(heads -> {
            throw new AssertionError("a metric's bug");
        }).build();
        net.setListeners(listener);
        net.fit(TestNets.data(2, 1, false));
        net.fit(TestNets.data(2, 2, false));
        listener.close();
        assertThat(listener.stats().analysisFailures()).isEqualTo(2);
    }

    @Test
    void vertexMasksThatCannotBeRead_listTheVertexAsSkipped_neverMeasureWithoutThem() {
        AttentionLayers ex = AttentionLayers.of(TestNets.graph(), null);
        assertThat(ex.sites()).extracting(AttentionLayers.Site::name).containsExactly("self");
        assertThat(ex.skipped()).extracting(AttentionLayers.Skipped::name).containsExactly("att", "plain");
        assertThat(ex.skipped()).allSatisfy(s -> assertThat(s.reason()).contains("masks"));
    }

    @Test
    void forward_leavesTheNetworksInputLabelsAndMaskAsTheyWere() {
        MultiLayerNetwork net = TestNets.mln();
        INDArray input = TestNets.features(2, 1);
        INDArray labels = TestNets.data(2, 1, false).getLabels();
        INDArray mask = TestNets.mask(2);
        net.setInput(input);
        net.setLabels(labels);
        net.setMask(mask);
        AttentionLayers.of(net).forward(new INDArray[] {TestNets.features(3, 9)}, null, new int[] {0, 1});
        assertThat(net.getInput()).isSameAs(input);
        assertThat(net.getLabels()).isSameAs(labels);
        assertThat(net.getMask()).isSameAs(mask);

        ComputationGraph cg = TestNets.graph();
        INDArray[] inputs = {TestNets.features(2, 1)};
        INDArray[] masks = {TestNets.mask(2)};
        cg.setInputs(inputs);
        cg.setLayerMaskArrays(masks, null);
        AttentionLayers.of(cg).forward(new INDArray[] {TestNets.features(3, 9)}, null, new int[] {0});
        assertThat(cg.getInputs()).containsExactly(inputs);
        assertThat(cg.getInputMaskArrays()).containsExactly(masks);
    }

    @Test
    void headFilter_redundancyPartner_namesTheLayersHead() {
        // heads 1 and 2 of a 3-head vertex: each one's partner is the other, by its index in the layer
        ComputationGraph cg = TestNets.graph();
        java.util.List<dev.headwatch.core.Observation> seen = new java.util.ArrayList<>();
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(false).layers("att")
                .heads(1, 2).sink(seen::add).build();
        cg.setListeners(listener);
        cg.fit(TestNets.data(2, 3, false));
        listener.close();
        assertThat(seen.get(0).heads()).extracting(r -> r.head() + "->" + (long) r.metrics().redundancyPartner())
                .containsExactly("1->2", "2->1");
        assertThat(seen.get(0).heads()).extracting(r -> r.metrics()).extracting(HeadMetrics::maxRedundancy)
                .allSatisfy(v -> assertThat(v).isBetween(-1.0, 1.0));
    }
}
