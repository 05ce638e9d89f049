package dev.headwatch.dl4j;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The training-thread CPU time of the listener's copies, on the shapes of {@code bench overhead} (two
 * self-attention layers, 16 -> 64 -> 64 features, 4 heads of 16, 32 steps, batch 32, float32), inside real
 * {@code fit()} calls so the arrays are the ones DL4J hands over, in its workspace.
 *
 * <pre>java -cp ... dev.headwatch.dl4j.CaptureCpu [steps] [copies per step]</pre>
 * prints the CPU microseconds of one {@link AttentionLayers#capture} (every layer's sampled sequence and
 * parameters), and of the whole listener per step (the copies and the hand-over to its background thread).
 */
public final class CaptureCpu {

    private CaptureCpu() {
    }

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(42).dataType(DataType.FLOAT).updater(new Adam(3e-3)).weightInit(WeightInit.XAVIER).list()
                .layer(new SelfAttentionLayer.Builder().nIn(16).nOut(64).nHeads(4).projectInput(true).build())
                .layer(new SelfAttentionLayer.Builder().nIn(64).nOut(64).nHeads(4).projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(64).nOut(16).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(16, 32)).build());
        net.init();
        AttentionLayers layers = AttentionLayers.of(net);
        AttentionMonitorListener monitor = AttentionMonitorListener.builder().build();
        long[] captureNanos = new long[1];
        long[] listenerNanos = new long[1];
        boolean[] timed = new boolean[1];
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void onForwardPass(Model model, List<INDArray> activations) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < repeats; i++) {
                    layers.capture(new Forward(activations, null), new int[] {i % 32}, n -> true, null);
                }
                long t1 = mx.getCurrentThreadCpuTime();
                monitor.onForwardPass(model, activations);
                long t2 = mx.getCurrentThreadCpuTime();
                if (timed[0]) {
                    captureNanos[0] += t1 - t0;
                    listenerNanos[0] += t2 - t1;
                }
            }

            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                long t0 = mx.getCurrentThreadCpuTime();
                monitor.iterationDone(model, iteration, epoch);
                if (timed[0]) {
                    listenerNanos[0] += mx.getCurrentThreadCpuTime() - t0;
                }
            }
        });
        INDArray features = Nd4j.rand(DataType.FLOAT, 32, 16, 32);
        INDArray labels = Nd4j.rand(DataType.FLOAT, 32, 16, 32);
        try {
            for (int round = 0; round < 4; round++) {
                timed[0] = round > 0; // the first round warms up
                captureNanos[0] = 0;
                listenerNanos[0] = 0;
                for (int s = 0; s < steps; s++) {
                    net.fit(features, labels);
                }
                if (timed[0]) {
                    System.out.printf("capture %.1f us, listener %.1f us per step (CPU, training thread)%n",
                            captureNanos[0] / 1e3 / steps / repeats, listenerNanos[0] / 1e3 / steps);
                }
            }
        } finally {
            monitor.close();
        }
    }
}
