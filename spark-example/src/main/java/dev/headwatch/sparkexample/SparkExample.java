package dev.headwatch.sparkexample;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.sink.AlertJsonlSink;
import dev.headwatch.core.sink.TensorBoardSink;
import dev.headwatch.spark.SparkHeadwatch;
import dev.headwatch.spark.SparkRunStats;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.JobFailed;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A SelfAttentionLayer network trained on a {@code local[2]} Spark master, once with each training master,
 * watched by {@link SparkHeadwatch}. Head 0's query and key weights start {@value #BREAK}x too large, so its
 * logits start about 250 times too large: LOGIT_GROWTH fires on the driver, and the stop policy on it ends
 * training between splits (parameter averaging) or between {@code fit()} calls (shared training).
 */
public final class SparkExample {

    static final int FEATURES = 8;
    static final int LENGTH = 12;
    static final int HEADS = 2;
    static final int BATCH = 4;
    static final float BREAK = 24f;

    /** Which training master. */
    public enum Master {
        PARAMETER_AVERAGING("parameter-averaging"), SHARED_TRAINING("shared-training");

        final String dir;

        Master(String dir) {
            this.dir = dir;
        }
    }

    /** What one run did, read from the driver's side. */
    public record Result(Master master, int epochsCompleted, int epochs, boolean stopped, int failedJobs,
                         SparkRunStats stats) {
        /** The RESULT line. */
        public String line() {
            return "RESULT spark master=" + master.dir + " epochs=" + epochsCompleted + "/" + epochs
                    + " stopped=" + stopped + " failedJobs=" + failedJobs + " workers=" + stats.workers().size()
                    + " observations=" + stats.observations() + " records=" + stats.records()
                    + " late=" + stats.late() + " silent=" + stats.silent().values().stream().mapToLong(Long::longValue).sum()
                    + " dropped=" + stats.dropped();
        }
    }

    private SparkExample() {
    }

    /** Runs both masters into {@code out/parameter-averaging} and {@code out/shared-training}. */
    public static List<Result> run(Path out, int epochs, PrintStream console) throws IOException {
        List<Result> results = new ArrayList<>();
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("headwatch-spark-example")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            sc.setLogLevel("WARN");
            AtomicInteger failedJobs = new AtomicInteger();
            sc.sc().addSparkListener(new SparkListener() {
                @Override
                public void onJobEnd(SparkListenerJobEnd end) {
                    if (end.jobResult() instanceof JobFailed) {
                        failedJobs.incrementAndGet();
                    }
                }
            });
            for (Master m : Master.values()) {
                Result r = run(sc, m, out.resolve(m.dir), epochs, failedJobs);
                console.println(r.line());
                results.add(r);
            }
        }
        return results;
    }

    private static Result run(JavaSparkContext sc, Master master, Path dir, int epochs, AtomicInteger failedJobs)
            throws IOException {
        AlertEngine alerts = AlertEngine.withDefaults();
        try (AlertJsonlSink alertFile = AlertJsonlSink.open(dir.resolve("alerts.jsonl"))) {
            alerts.addListener(alertFile);
            SparkRunStats stats;
            int completed;
            boolean stopped;
            int failedBefore = failedJobs.get();
            try (SparkHeadwatch headwatch = SparkHeadwatch.builder()
                    .maxSequences(2)
                    .metrics(dir.resolve("metrics.jsonl"))
                    .sink(TensorBoardSink.create(dir.resolve("tensorboard")))
                    .stopOn(alerts, Alert.LOGIT_GROWTH)
                    .build(sc)) {
                SparkDl4jMultiLayer net = new SparkDl4jMultiLayer(sc, network(), master(master));
                headwatch.attach(net);
                completed = headwatch.fit(net, data(sc, 16), epochs);
                stopped = headwatch.stopRequest().isPresent();
                stats = headwatch.stats();
            }
            return new Result(master, completed, epochs, stopped, failedJobs.get() - failedBefore, stats);
        }
    }

    private static TrainingMaster<?, ?> master(Master m) {
        return switch (m) {
            case PARAMETER_AVERAGING -> new ParameterAveragingTrainingMaster.Builder(BATCH)
                    .batchSizePerWorker(BATCH).averagingFrequency(1).workerPrefetchNumBatches(0)
                    .rddTrainingApproach(RDDTrainingApproach.Direct).build();
            // a worker's partition holds batchSizePerWorker / BATCH minibatches: two partitions of 8, each
            // trained by the two replicas of the task that hosts them
            case SHARED_TRAINING -> new SharedTrainingMaster.Builder(VoidConfiguration.builder()
                    .unicastPort(40123).networkMask("127.0.0.0/8").controllerAddress("127.0.0.1").build(), BATCH)
                    .batchSizePerWorker(BATCH * 8).workersPerNode(2).workerPrefetchNumBatches(0)
                    .rddTrainingApproach(RDDTrainingApproach.Direct).build();
        };
    }

    /** Two heads; head 0's query and key weights scaled so that its logits start far too large. */
    static MultiLayerNetwork network() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(7).updater(new Adam(1e-3)).list()
                .layer(new SelfAttentionLayer.Builder().nIn(FEATURES).nOut(16).nHeads(HEADS).projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(16).nOut(FEATURES).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(FEATURES, LENGTH))
                .build());
        net.init();
        for (String p : List.of("Wq", "Wk")) {
            INDArray w = net.getLayer(0).getParam(p);
            w.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all()).muli(BREAK);
        }
        return net;
    }

    /** {@code count} minibatches of a copy task over one-hot tokens, seeded. */
    static JavaRDD<DataSet> data(JavaSparkContext sc, int count) {
        SplittableRandom random = new SplittableRandom(11);
        List<DataSet> batches = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            INDArray x = Nd4j.zeros(BATCH, FEATURES, LENGTH);
            for (int i = 0; i < BATCH; i++) {
                for (int t = 0; t < LENGTH; t++) {
                    x.putScalar(new int[] {i, random.nextInt(FEATURES), t}, 1.0);
                }
            }
            batches.add(new DataSet(x, x.dup()));
        }
        return sc.parallelize(batches, 2);
    }
}
