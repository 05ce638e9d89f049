package dev.headwatch.dl4j;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.LayerAnalyzer;
import dev.headwatch.core.LayerCapture;
import dev.headwatch.core.LayerObservation;
import dev.headwatch.core.Visibility;
import dev.headwatch.dl4j.AttentionLayers.Kind;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AttentionLayersTest {

    /** Float32 forward passes rebuilt from float32 values: relative error a few ulps times the depth. */
    private static final double EXACT = 1e-5;

    private static MultiLayerNetwork mln;
    private static ComputationGraph cg;

    @BeforeAll
    static void nets() {
        mln = TestNets.mln();
        cg = TestNets.graph();
    }

    @Test
    void discovery_findsEveryLayerKind() {
        assertThat(AttentionLayers.of(mln).sites()).extracting(AttentionLayers.Site::kind)
                .containsExactly(Kind.SELF_ATTENTION, Kind.SELF_ATTENTION, Kind.RECURRENT_ATTENTION);
        assertThat(AttentionLayers.of(cg).sites()).extracting(AttentionLayers.Site::name)
                .containsExactly("self", "att", "plain");
        assertThat(AttentionLayers.of(cg).sites()).extracting(AttentionLayers.Site::nHeads)
                .containsExactly(2, 3, 1);
    }

    @Test
    void discovery_listsLearnedSelfAttentionAsSkipped() {
        AttentionLayers layers = AttentionLayers.of(TestNets.learned());
        assertThat(layers.skipped()).singleElement().satisfies(s -> {
            assertThat(s.name()).isEqualTo("layer0");
            assertThat(s.reason()).contains("LearnedSelfAttentionLayer");
        });
        assertThat(layers.sites()).extracting(AttentionLayers.Site::name).containsExactly("layer1");
    }

    @Test
    void capture_multiLayerNetwork_rebuildsLayerOutput_withoutMask() {
        List<LayerCapture> out = AttentionLayers.of(mln)
                .forward(new INDArray[]{TestNets.features(4, 1)}, null, new int[]{0, 2, 3});
        assertThat(out).hasSize(3);
        for (LayerCapture c : out) {
            LayerObservation o = observe(c);
            assertThat(o.records()).as(c.layer()).hasSize(c.heads()).allSatisfy(r -> {
                assertThat(r.metrics().reconstructionError()).isBetween(0.0, EXACT);
                assertThat(r.mask()).isEqualTo(Visibility.FULL);
            });
            assertThat(o.input().sequences()).hasSize(3);
        }
    }

    @Test
    void capture_multiLayerNetwork_rebuildsLayerOutput_withMask() {
        List<LayerCapture> out = AttentionLayers.of(mln)
                .forward(new INDArray[]{TestNets.features(4, 2)}, new INDArray[]{TestNets.mask(4)}, new int[]{0, 1, 2});
        for (LayerCapture c : out) {
            LayerObservation o = observe(c);
            assertThat(o.records()).extracting(r -> r.metrics().reconstructionError())
                    .allSatisfy(e -> assertThat(e).as(c.layer()).isBetween(0.0, EXACT));
            assertVisibilities(o);
        }
    }

    @Test
    void capture_computationGraph_rebuildsVertexOutput_withAndWithoutMask() {
        AttentionLayers layers = AttentionLayers.of(cg);
        for (INDArray[] masks : new INDArray[][]{null, {TestNets.mask(3)}}) {
            List<LayerCapture> out = layers.forward(new INDArray[]{TestNets.features(3, 3)}, masks, new int[]{0, 1, 2});
            assertThat(out).hasSize(3);
            for (LayerCapture c : out) {
                LayerObservation o = observe(c);
                assertThat(o.records()).extracting(r -> r.metrics().reconstructionError())
                        .allSatisfy(e -> assertThat(e).as(c.layer()).isBetween(0.0, EXACT));
                if (masks != null) {
                    assertVisibilities(o);
                }
            }
        }
    }

    @Test
    void capture_wrongScale_isDetectedByTheRebuild() {
        // The same capture read with a doubled logit scale must not match the layer's output: the check has teeth.
        LayerCapture c = AttentionLayers.of(mln)
                .forward(new INDArray[]{TestNets.features(2, 4)}, null, new int[]{0}).get(0);
        LayerCapture wrong = new LayerCapture(c.layer(), c.heads(), c.headSize(), 2 / Math.sqrt(c.headSize()),
                c.doublePrecision(), c.causal(), c.projections(), c.recurrence(), c.sequences());
        assertThat(observe(c).records().get(0).metrics().reconstructionError()).isLessThan(EXACT);
        assertThat(observe(wrong).records().get(0).metrics().reconstructionError()).isGreaterThan(1e-3);
        HeadInput h0 = observe(c).input().sequences().get(0).get(0);
        assertThat(h0.scale()).isEqualTo(1 / Math.sqrt(4), org.assertj.core.api.Assertions.within(1e-12));
    }

    @Test
    void capture_copiesTheWeightsThePassUsed_notTheNetworksLaterOnes() {
        LayerCapture c = AttentionLayers.of(mln)
                .forward(new INDArray[]{TestNets.features(2, 5)}, null, new int[]{0}).get(0);
        double before = c.projections().wq()[0];
        mln.getLayer(0).getParam("Wq").addi(1.0);
        try {
            assertThat(c.projections().wq()[0]).isEqualTo(before);
        } finally {
            mln.getLayer(0).getParam("Wq").subi(1.0);
        }
    }

    private static LayerObservation observe(LayerCapture c) {
        return LayerObservation.of(c, h -> true, LayerAnalyzer.standard()).orElseThrow();
    }

    /** Row 0 full, row 1 padded to 4, row 2 a hole at position 2: FULL over the 5 remaining positions. */
    private static void assertVisibilities(LayerObservation o) {
        List<List<HeadInput>> s = o.input().sequences();
        assertThat(s.get(0).get(0).visibility()).isEqualTo(Visibility.FULL);
        assertThat(s.get(1).get(0).visibility()).isEqualTo(Visibility.padded(4));
        assertThat(s.get(2).get(0).visibility()).isEqualTo(Visibility.FULL);
        assertThat(s.get(2).get(0).n()).isEqualTo(TestNets.T - 1);
        assertThat(o.records()).extracting(HeadRecord::layer).containsOnly(o.input().layer());
    }
}
