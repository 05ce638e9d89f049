package dev.headwatch.examples.quickstart;

import java.nio.file.Path;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import dev.headwatch.core.sink.JsonLinesSink;
import dev.headwatch.core.sink.Slf4jSummarySink;
import dev.headwatch.dl4j.AttentionMonitorListener;

public class QuickStart {

    public static void main(String[] args) throws Exception {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(1).updater(new Adam(1e-3)).list()
                .layer(new SelfAttentionLayer.Builder().nIn(8).nOut(32).nHeads(4).projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(32).nOut(8).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(8, 16))
                .build());
        net.init();

        AttentionMonitorListener monitor = AttentionMonitorListener.builder()
                .sink(new Slf4jSummarySink())                                   // one log line per step
                .sink(JsonLinesSink.open(Path.of("headwatch-out/heads.jsonl")))  // one record per head per step
                .build();
        net.setListeners(monitor);

        for (int step = 0; step < 20; step++) {
            DataSet batch = new DataSet(Nd4j.rand(4, 8, 16), Nd4j.rand(4, 8, 16));
            net.fit(batch);
        }
        monitor.close();  // finishes queued observations, closes the sinks
    }
}
