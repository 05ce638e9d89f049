package dev.headwatch.export;

import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.sink.TensorBoardSink;
import dev.headwatch.dl4j.AttentionMonitorListener;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's wiring on a real fit(): TensorBoard files and a scrape-able endpoint. */
class ExportersFitTest {

    @TempDir
    Path dir;

    @Test
    void fit_withBothExporters_writesEventsAndServesMetrics() throws Exception {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(5).dataType(DataType.FLOAT).updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER)
                .list()
                .layer(new SelfAttentionLayer.Builder().nIn(8).nOut(8).nHeads(2).headSize(4).projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(8).nOut(3).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(8, 6))
                .build());
        net.init();

        Path logDir = dir.resolve("tb");
        AlertEngine alerts = AlertEngine.withDefaults();
        PrometheusExporter prometheus = PrometheusExporter.builder().port(0).alerts(alerts).start();
        AttentionMonitorListener listener = AttentionMonitorListener.builder()
                .sink(TensorBoardSink.create(logDir))
                .sink(alerts)
                .sink(prometheus)
                .background(false)
                .build();
        prometheus.stats(listener::stats);
        net.setListeners(listener);

        Nd4j.getRandom().setSeed(1);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 4, 3, 6);
        labels.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(1);
        for (int i = 0; i < 3; i++) {
            net.fit(new DataSet(Nd4j.randn(DataType.FLOAT, 4, 8, 6), labels));
        }

        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + prometheus.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        listener.close();

        List<PrometheusExporterTest.Sample> samples = PrometheusExporterTest.parse(response.body());
        assertThat(PrometheusExporterTest.value(samples, "headwatch_observations_total", Map.of())).isEqualTo(3.0);
        assertThat(PrometheusExporterTest.value(samples, "headwatch_sink_failures_total", Map.of())).isZero();
        List<PrometheusExporterTest.Sample> entropy = samples.stream()
                .filter(s -> s.name().equals("headwatch_head_entropy")).toList();
        assertThat(entropy).hasSize(2).allSatisfy(s -> assertThat(s.value()).isBetween(0.0, 1.0));

        try (var files = Files.list(logDir)) {
            Path events = files.findFirst().orElseThrow();
            byte[] bytes = Files.readAllBytes(events);
            // file version record + one event per observation, each framed as 8 + 4 + data + 4 bytes
            int records = 0;
            for (int at = 0; at < bytes.length; records++) {
                long length = java.nio.ByteBuffer.wrap(bytes, at, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                at += 16 + (int) length;
            }
            assertThat(records).isEqualTo(4);
            assertThat(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1))
                    .contains("/entropy/median").doesNotContain("/head0/");
        }
    }
}
