package dev.headwatch.checkpoint;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.sink.ObservationSink;
import dev.headwatch.dl4j.AttentionMonitorListener;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One definition of every metric, live and offline: what the live listener reports during a real
 * {@code fit()} equals what {@code analyze} reports on a checkpoint of the same weights with the same
 * minibatch as probe. The checkpoint is written just before the observed {@code fit()} call, whose forward
 * pass (the one the listener reads) runs on exactly those weights, before the update. The listener
 * samples every sequence of the minibatch ({@code maxSequences} = batch size), as the analyzer does.
 */
class LiveAndOfflineAgreeTest {

    private static final int BATCH = 4;

    @TempDir
    static Path tmp;

    @Test
    void multiLayerNetwork_analyzerEqualsListener() throws IOException {
        MultiLayerNetwork net = Models.mln();
        net.fit(Models.data(BATCH, 1));
        net.fit(Models.data(BATCH, 2));
        assertAgree(net, tmp.resolve("mln.zip"), net::setListeners, net::fit);
    }

    @Test
    void computationGraph_analyzerEqualsListener() throws IOException {
        ComputationGraph cg = Models.graph();
        cg.fit(Models.data(BATCH, 1));
        cg.fit(Models.data(BATCH, 2));
        assertAgree(cg, tmp.resolve("graph.zip"), cg::setListeners, cg::fit);
    }

    private static void assertAgree(Model model, Path file, java.util.function.Consumer<AttentionMonitorListener> attach,
                                    java.util.function.Consumer<DataSet> fit) throws IOException {
        ModelSerializer.writeModel(model, file.toFile(), false);
        Collecting sink = new Collecting();
        AttentionMonitorListener listener = AttentionMonitorListener.builder()
                .background(false).maxSequences(BATCH).sink(sink).build();
        attach.accept(listener);
        DataSet batch = Models.data(BATCH, 3);
        fit.accept(batch);
        listener.close();

        assertThat(sink.seen).hasSize(1);
        List<HeadRecord> live = sink.seen.get(0).heads();
        CheckpointAnalysis report = CheckpointAnalyzer.builder().probe(Probe.of(batch.getFeatures())).build().analyze(List.of(file));
        assertThat(report.failed()).isEmpty();
        CheckpointResult offline = report.checkpoints().get(0);
        List<HeadResult> heads = new ArrayList<>();
        for (LayerResult layer : offline.layers()) {
            for (HeadResult h : layer.heads()) {
                heads.add(h);
                HeadRecord r = live.stream().filter(x -> x.layer().equals(layer.layer()) && x.head() == h.head())
                        .findFirst().orElseThrow(() -> new AssertionError("listener did not report " + layer.layer()));
                assertThat(h.n()).isEqualTo(r.n());
                assertThat(h.d()).isEqualTo(r.d());
                assertThat(h.mask()).isEqualTo(r.mask());
                assertThat(h.metrics()).as("%s head %d", layer.layer(), h.head()).isEqualTo(r.metrics());
            }
        }
        assertThat(heads).hasSameSizeAs(live).isNotEmpty();
        assertThat(heads.get(0).metrics().entropy()).isBetween(0.0, 1.0);
    }

    /** Keeps every observation in memory. */
    private static final class Collecting implements ObservationSink {
        final List<Observation> seen = new ArrayList<>();

        @Override
        public void write(Observation observation) {
            seen.add(observation);
        }

        @Override
        public void close() {
        }
    }
}
