package dev.headwatch.dl4j;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.Visibility;
import dev.headwatch.dl4j.AttentionExtractor.Kind;
import dev.headwatch.dl4j.AttentionExtractor.LayerExtraction;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AttentionExtractorTest {

    /** Float32 forward passes rebuilt in float32: relative error a few ulps times the depth. */
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
        assertThat(AttentionExtractor.of(mln).sites()).extracting(AttentionExtractor.Site::kind)
                .containsExactly(Kind.SELF_ATTENTION, Kind.SELF_ATTENTION, Kind.RECURRENT_ATTENTION);
        assertThat(AttentionExtractor.of(cg).sites()).extracting(AttentionExtractor.Site::name)
                .containsExactly("self", "att", "plain");
        assertThat(AttentionExtractor.of(cg).sites()).extracting(AttentionExtractor.Site::nHeads)
                .containsExactly(2, 3, 1);
    }

    @Test
    void discovery_listsLearnedSelfAttentionAsSkipped() {
        AttentionExtractor ex = AttentionExtractor.of(TestNets.learned());
        assertThat(ex.skipped()).singleElement().satisfies(s -> {
            assertThat(s.name()).isEqualTo("layer0");
            assertThat(s.reason()).contains("LearnedSelfAttentionLayer");
        });
        assertThat(ex.sites()).extracting(AttentionExtractor.Site::name).containsExactly("layer1");
    }

    @Test
    void rebuild_multiLayerNetwork_reproducesLayerOutput_withoutMask() {
        List<LayerExtraction> out = AttentionExtractor.of(mln)
                .forward(new INDArray[]{TestNets.features(4, 1)}, null, new int[]{0, 2, 3});
        assertThat(out).hasSize(3);
        for (LayerExtraction e : out) {
            assertThat(e.reconstructionError()).as(e.site().name()).isBetween(0.0, EXACT);
            assertThat(e.sequences()).hasSize(3);
            assertThat(e.sequences().get(0)).hasSize(e.site().nHeads())
                    .allSatisfy(h -> assertThat(h.visibility()).isEqualTo(Visibility.FULL));
        }
    }

    @Test
    void rebuild_multiLayerNetwork_reproducesLayerOutput_withMask() {
        List<LayerExtraction> out = AttentionExtractor.of(mln)
                .forward(new INDArray[]{TestNets.features(4, 2)}, new INDArray[]{TestNets.mask(4)}, new int[]{0, 1, 2});
        for (LayerExtraction e : out) {
            assertThat(e.reconstructionError()).as(e.site().name()).isBetween(0.0, EXACT);
            assertVisibilities(e);
        }
    }

    @Test
    void rebuild_computationGraph_reproducesVertexOutput_withAndWithoutMask() {
        AttentionExtractor ex = AttentionExtractor.of(cg);
        for (INDArray[] masks : new INDArray[][]{null, {TestNets.mask(3)}}) {
            List<LayerExtraction> out = ex.forward(new INDArray[]{TestNets.features(3, 3)}, masks, new int[]{0, 1, 2});
            assertThat(out).hasSize(3);
            for (LayerExtraction e : out) {
                assertThat(e.reconstructionError()).as(e.site().name()).isBetween(0.0, EXACT);
                if (masks != null) {
                    assertVisibilities(e);
                }
            }
        }
    }

    @Test
    void rebuild_wrongScale_isDetected() {
        // The same rebuild with a doubled logit scale must not match: the check has teeth.
        LayerExtraction e = AttentionExtractor.of(mln)
                .forward(new INDArray[]{TestNets.features(2, 4)}, null, new int[]{0}).get(0);
        HeadInput h0 = e.sequences().get(0).get(0);
        INDArray right = AttentionExtractor.attend(h0.q(), h0.k(), h0.v(), h0.scale(), new boolean[]{true, true, true, true, true, true});
        INDArray wrong = AttentionExtractor.attend(h0.q(), h0.k(), h0.v(), 2 * h0.scale(), new boolean[]{true, true, true, true, true, true});
        assertThat(right.sub(wrong).norm2Number().doubleValue()).isGreaterThan(1e-3);
        assertThat(h0.scale()).isEqualTo(1 / Math.sqrt(4), org.assertj.core.api.Assertions.within(1e-12));
    }

    /** Row 0 full, row 1 padded to 4, row 2 a hole at position 2: FULL over the 5 remaining positions. */
    private static void assertVisibilities(LayerExtraction e) {
        assertThat(e.sequences().get(0).get(0).visibility()).isEqualTo(Visibility.FULL);
        assertThat(e.sequences().get(1).get(0).visibility()).isEqualTo(Visibility.padded(4));
        assertThat(e.sequences().get(2).get(0).visibility()).isEqualTo(Visibility.FULL);
        assertThat(e.sequences().get(2).get(0).n()).isEqualTo(TestNets.T - 1);
    }
}
