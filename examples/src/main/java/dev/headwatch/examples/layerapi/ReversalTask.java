package dev.headwatch.examples.layerapi;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.SplittableRandom;

/**
 * A small attention model on a task that needs attention: read a sequence of random tokens and emit it
 * reversed (output t is input {@code T-1-t}), which no position can do without looking at another one.
 * Two {@link SelfAttentionLayer}s with several heads and an {@link RnnOutputLayer}, built with DL4J's
 * layer API; tokens are one-hot {@code [mb, vocab, T]}. Everything is generated from a seed.
 */
public final class ReversalTask {

    /** The sizes of the model and its data. */
    public record Shape(int vocab, int length, int width, int heads, int batch) {
        /** The sizes used by the overhead benchmark. */
        public static final Shape DEFAULT = new Shape(16, 32, 64, 4, 32);
    }

    private final Shape shape;
    private final SplittableRandom random;

    public ReversalTask(Shape shape, long seed) {
        this.shape = shape;
        this.random = new SplittableRandom(seed);
    }

    /** A fresh network; the same seed gives the same initial weights. */
    public static MultiLayerNetwork network(Shape s, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(DataType.FLOAT).updater(new Adam(3e-3)).weightInit(WeightInit.XAVIER)
                .list()
                .layer(new SelfAttentionLayer.Builder().nIn(s.vocab()).nOut(s.width()).nHeads(s.heads())
                        .projectInput(true).build())
                .layer(new SelfAttentionLayer.Builder().nIn(s.width()).nOut(s.width()).nHeads(s.heads())
                        .projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(s.width()).nOut(s.vocab()).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(s.vocab(), s.length()))
                .build());
        net.init();
        return net;
    }

    /** The next minibatch: random tokens and their reversal, both one-hot. */
    public DataSet next() {
        int mb = shape.batch();
        int t = shape.length();
        INDArray features = Nd4j.zeros(DataType.FLOAT, mb, shape.vocab(), t);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, mb, shape.vocab(), t);
        for (int b = 0; b < mb; b++) {
            for (int i = 0; i < t; i++) {
                int token = random.nextInt(shape.vocab());
                features.putScalar(b, token, i, 1);
                labels.putScalar(b, token, t - 1 - i, 1);
            }
        }
        return new DataSet(features, labels);
    }
}
