package dev.headwatch.dl4j;

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
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Random;

/**
 * A small attention model and a task it learns: sequences of {@code T} tokens from a vocabulary of
 * {@code VOCAB}, each a fixed random embedding plus a sinusoidal position code; the label at step t is
 * {@code token[t-1] mod CLASSES}, so a head has to find the previous token.
 */
final class AttentionTask {

    static final int N_IN = 8;
    static final int T = 10;
    static final int HEADS = 4;
    static final int HEAD_SIZE = 4;
    static final int VOCAB = 6;
    static final int CLASSES = 3;
    static final String LAYER = "0";

    private final float[][] embeddings = new float[VOCAB][N_IN];
    private final Random random;

    AttentionTask(long seed) {
        random = new Random(seed);
        for (float[] e : embeddings) {
            for (int i = 0; i < N_IN; i++) {
                e[i] = (float) random.nextGaussian();
            }
        }
    }

    /** One SelfAttentionLayer (4 heads of size 4) and a per-step softmax output. */
    static MultiLayerNetwork network(long seed, double learningRate) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(DataType.FLOAT).updater(new Adam(learningRate)).weightInit(WeightInit.XAVIER)
                .list()
                .layer(new SelfAttentionLayer.Builder().nIn(N_IN).nOut(N_IN).nHeads(HEADS).headSize(HEAD_SIZE)
                        .projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(N_IN).nOut(CLASSES).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(N_IN, T))
                .build());
        net.init();
        return net;
    }

    /** A minibatch {@code [mb, N_IN, T]} with its labels. */
    DataSet batch(int mb) {
        INDArray f = Nd4j.zeros(DataType.FLOAT, mb, N_IN, T);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, mb, CLASSES, T);
        for (int b = 0; b < mb; b++) {
            int previous = 0;
            for (int t = 0; t < T; t++) {
                int token = random.nextInt(VOCAB);
                for (int i = 0; i < N_IN; i++) {
                    double pos = i % 2 == 0 ? Math.sin(t / Math.pow(4, i / 2.0)) : Math.cos(t / Math.pow(4, i / 2.0));
                    f.putScalar(new int[] {b, i, t}, embeddings[token][i] + 0.5 * pos);
                }
                labels.putScalar(b, previous % CLASSES, t, 1);
                previous = token;
            }
        }
        return new DataSet(f, labels);
    }

    /** The layer's parameter {@code Wq}, {@code Wk} or {@code Wv} of one head ({@code [headSize, nIn]} view). */
    static INDArray headWeights(MultiLayerNetwork net, String param, int head) {
        return net.getLayer(0).getParam(param).get(NDArrayIndex.point(head), NDArrayIndex.all(), NDArrayIndex.all());
    }
}
