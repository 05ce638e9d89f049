package dev.headwatch.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.sink.ObservationSink;
import dev.headwatch.dl4j.AttentionMonitorListener;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Real training on local[2]: what the driver receives is what the workers measured, exactly. */
class SparkTrainingTest {

    static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = LocalSpark.start("local[2]");
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    static ParameterAveragingTrainingMaster averaging() {
        return new ParameterAveragingTrainingMaster.Builder(3).batchSizePerWorker(3).averagingFrequency(1)
                .workerPrefetchNumBatches(0).rddTrainingApproach(RDDTrainingApproach.Direct).build();
    }

    static MultiLayerNetwork network() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(3).updater(new Sgd(0.1)).list()
                .layer(new SelfAttentionLayer.Builder().nIn(6).nOut(8).nHeads(2).projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(8).nOut(6).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(6, 9))
                .build());
        net.init();
        return net;
    }

    @Test
    void parameterAveraging_eachWorkersFirstRecord_equalsTheListenerOnOneMachine() throws Exception {
        Nd4j.getRandom().setSeed(5);
        DataSet batch = new DataSet(Nd4j.rand(3, 6, 9), Nd4j.rand(3, 6, 9));
        // what the listener measures on one machine, at iteration 0, on this batch
        List<Observation> local = Collections.synchronizedList(new ArrayList<>());
        MultiLayerNetwork single = network();
        try (AttentionMonitorListener l = AttentionMonitorListener.builder().background(false).maxSequences(2)
                .sink((ObservationSink) local::add).build()) {
            single.setListeners(l);
            single.fit(batch);
        }
        assertThat(local).hasSize(1);
        assertThat(local.get(0).heads()).extracting(HeadRecord::head).containsExactly(0, 1);
        assertThat(local.get(0).heads()).allSatisfy(r -> assertThat(r.metrics().reconstructionError()).isLessThan(1e-3));

        List<Observation> driver = Collections.synchronizedList(new ArrayList<>());
        try (SparkHeadwatch hw = SparkHeadwatch.builder().maxSequences(2)
                .sink(driver::add).build(sc)) {
            SparkDl4jMultiLayer net = new SparkDl4jMultiLayer(sc, network(), averaging());
            hw.attach(net);
            // every worker trains the same batch from the same parameters: each one's iteration 0 is `local`
            List<DataSet> data = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                data.add(batch.copy());
            }
            assertThat(hw.fit(net, sc.parallelize(data, 2), 1)).isEqualTo(1);
            SparkRunStats stats = hw.stats();
            assertThat(stats.workers()).hasSizeGreaterThanOrEqualTo(2);
            assertThat(stats.late()).isZero();
            assertThat(stats.observations()).isEqualTo(driver.size());
        }
        List<Observation> zeros = driver.stream().filter(o -> o.step() == 0).toList();
        assertThat(zeros).hasSizeGreaterThanOrEqualTo(2);
        for (Observation o : zeros) {
            assertThat(o.heads()).isEqualTo(local.get(0).heads());
        }
    }

    @Test
    void computationGraph_isWatchedOnEveryWorker() throws Exception {
        ComputationGraph graph = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .seed(3).updater(new Sgd(0.1)).graphBuilder().addInputs("in")
                .addLayer("att", new SelfAttentionLayer.Builder().nIn(6).nOut(8).nHeads(2).projectInput(true).build(), "in")
                .addLayer("out", new RnnOutputLayer.Builder().nIn(8).nOut(6).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build(), "att")
                .setOutputs("out").setInputTypes(InputType.recurrent(6, 9)).build());
        graph.init();
        List<DataSet> data = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            data.add(new DataSet(Nd4j.rand(3, 6, 9), Nd4j.rand(3, 6, 9)));
        }
        List<Observation> driver = Collections.synchronizedList(new ArrayList<>());
        try (SparkHeadwatch hw = SparkHeadwatch.builder().sink(driver::add).build(sc)) {
            SparkComputationGraph net = new SparkComputationGraph(sc, graph, averaging());
            hw.attach(net);
            assertThat(hw.fit(net, sc.parallelize(data, 2), 1)).isEqualTo(1);
            assertThat(hw.stats().workers()).hasSizeGreaterThanOrEqualTo(2);
        }
        assertThat(driver).isNotEmpty().allSatisfy(o -> assertThat(o.heads()).hasSize(2).allSatisfy(r -> {
            assertThat(r.layer()).isEqualTo("att");
            assertThat(r.metrics().reconstructionError()).isLessThan(1e-3);
        }));
    }
}
