package dev.headwatch.examples.layerapi;

import dev.headwatch.examples.UpstreamNoise;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.alert.Severity;
import dev.headwatch.dl4j.AttentionMonitorListener;
import dev.headwatch.core.sink.JsonLinesSink;

/**
 * A {@link ComputationGraph} with one four-head {@link SelfAttentionLayer} learns a
 * sequence task (does token A occur more often than token B among random tokens?) while
 * {@link AttentionMonitorListener} measures every head at every iteration and the default alert rules watch them.
 */
public final class AttentionGraphExample {

    /** Tokens, and sequence length, of the counting task. */
    public static final int VOCAB = 8;
    public static final int LENGTH = 12;
    static final int A = 0;
    static final int B = 1;

    /**
     * @param accuracy  accuracy on fresh sequences after training
     * @param firing    WARNING or CRITICAL alerts firing at the end (0 on a healthy run)
     * @param fired     WARNING or CRITICAL alerts that fired during the run (0 on a healthy run); INFO
     *                  findings (a redundant pair, an unused head) are printed but not counted
     */
    public record Result(double accuracy, int firing, int fired) {
    }

    private AttentionGraphExample() {
    }

    /** The network: tokens [mb, VOCAB, LENGTH] -> self-attention (4 heads of 8) -> mean over time -> 2 classes. */
    public static ComputationGraph network(long seed) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(5e-3))
                .weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("tokens")
                .setInputTypes(InputType.recurrent(VOCAB, LENGTH))
                .addLayer("attention", new SelfAttentionLayer.Builder()
                        .nIn(VOCAB).nOut(32).nHeads(4).headSize(8).projectInput(true)
                        // Xavier's fan-out term starts the heads with near-identical energy fields; He does not.
                        .weightInit(WeightInit.RELU).build(), "tokens")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "attention")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(2).activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out")
                .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        // One-hot tokens have norm 1, so the initial logits are tiny (energyRms 0.02-0.05) and the heads start
        // at uniform attention. Twice the query and key scale (logits x4) starts them alive; with plain Xavier,
        // LOGIT_GROWTH's qkSpectralNorm part fires on this healthy run right after the warm-up (docs/alerts.md).
        net.getLayer("attention").getParam("Wq").muli(2);
        net.getLayer("attention").getParam("Wk").muli(2);
        return net;
    }

    /** {@code size} random sequences, one-hot NCW, labelled 1 when A occurs more often than B. */
    public static DataSet data(int size, SplittableRandom random) {
        INDArray x = Nd4j.zeros(DataType.FLOAT, size, VOCAB, LENGTH);
        INDArray y = Nd4j.zeros(DataType.FLOAT, size, 2);
        int[] tokens = new int[LENGTH];
        for (int i = 0; i < size; i++) {
            int balance;
            do {
                balance = 0;
                for (int t = 0; t < LENGTH; t++) {
                    tokens[t] = random.nextInt(VOCAB);
                    balance += tokens[t] == A ? 1 : tokens[t] == B ? -1 : 0;
                }
            } while (balance == 0);
            for (int t = 0; t < LENGTH; t++) {
                x.putScalar(new long[] {i, tokens[t], t}, 1f);
            }
            y.putScalar(i, balance > 0 ? 1 : 0, 1f);
        }
        return new DataSet(x, y);
    }

    /** Trains for {@code iterations} minibatches of 32, writing {@code heads.jsonl} into {@code out}. */
    public static Result run(int iterations, long seed, Path out, PrintStream console) throws IOException {
        ComputationGraph net = network(seed);
        AlertEngine alerts = AlertEngine.withDefaults();
        java.util.concurrent.atomic.AtomicInteger fired = new java.util.concurrent.atomic.AtomicInteger();
        alerts.addListener(e -> {
            if (e.state() == AlertState.FIRING) {
                if (e.severity() != Severity.INFO) {
                    fired.incrementAndGet();
                }
                console.println(e.message());
            }
        });
        AttentionMonitorListener monitor = AttentionMonitorListener.builder()
                .maxSequences(4)   // averaged over 4 sequences, alerts do not flap on single-sequence noise
                .sink(JsonLinesSink.open(out.resolve("heads.jsonl")))
                .sink(alerts)
                .build();
        net.setListeners(monitor);
        SplittableRandom random = new SplittableRandom(seed);
        UpstreamNoise.muted(() -> net.fit(data(32, random))); // the first fit builds SameDiff's gradient
        for (int i = 1; i < iterations; i++) {
            net.fit(data(32, random));
        }
        monitor.close();
        DataSet test = data(500, random);
        INDArray predicted = net.outputSingle(test.getFeatures()).argMax(1);
        double accuracy = predicted.eq(test.getLabels().argMax(1)).castTo(DataType.FLOAT).meanNumber().doubleValue();
        int firing = (int) alerts.firing().stream().filter(f -> f.severity() != Severity.INFO).count();
        console.printf("accuracy %.3f on 500 fresh sequences; WARNING+ alerts fired: %d, firing at the end: %d;"
                + " per-head metrics in %s%n", accuracy, fired.get(), firing, out.resolve("heads.jsonl"));
        return new Result(accuracy, firing, fired.get());
    }
}
