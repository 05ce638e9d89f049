package dev.headwatch.dl4j;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.AttentionVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LearnedSelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.RecurrentAttentionLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Small attention networks with every supported layer kind, shared by the adapter tests. */
final class TestNets {

    static final int N_IN = 8;
    static final int T = 6;
    static final int CLASSES = 3;

    private TestNets() {
    }

    /** SelfAttentionLayer (projected, 2 heads), SelfAttentionLayer (unprojected), RecurrentAttentionLayer. */
    static MultiLayerNetwork mln() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(7).dataType(DataType.FLOAT).updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER)
                .list()
                .layer(new SelfAttentionLayer.Builder().nIn(N_IN).nOut(N_IN).nHeads(2).headSize(4)
                        .projectInput(true).build())
                .layer(new SelfAttentionLayer.Builder().nIn(N_IN).nOut(N_IN).nHeads(1).projectInput(false).build())
                .layer(new RecurrentAttentionLayer.Builder().nIn(N_IN).nOut(N_IN).nHeads(2).headSize(3)
                        .projectInput(true).activation(Activation.TANH).hasBias(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(N_IN).nOut(CLASSES).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(N_IN, T))
                .build());
        net.init();
        return net;
    }

    /** AttentionVertex (projected, 3 heads) and AttentionVertex (unprojected) on the same input. */
    static ComputationGraph graph() {
        ComputationGraph cg = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .seed(11).dataType(DataType.FLOAT).updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.recurrent(N_IN, T))
                .addLayer("self", new SelfAttentionLayer.Builder().nIn(N_IN).nOut(N_IN).nHeads(2).headSize(4)
                        .projectInput(true).build(), "in")
                .addVertex("att", new AttentionVertex.Builder().nInQueries(N_IN).nInKeys(N_IN).nInValues(N_IN)
                        .nOut(N_IN).nHeads(3).headSize(2).projectInput(true).weightInit(WeightInit.XAVIER).build(),
                        "self", "in", "in")
                .addVertex("plain", new AttentionVertex.Builder().nInQueries(N_IN).nInKeys(N_IN).nInValues(N_IN)
                        .nOut(N_IN).nHeads(1).projectInput(false).build(), "att", "att", "att")
                .addLayer("out", new RnnOutputLayer.Builder().nIn(N_IN).nOut(CLASSES).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build(), "plain")
                .setOutputs("out")
                .build());
        cg.init();
        return cg;
    }

    /** One projected SelfAttentionLayer (2 heads) and the output layer: the cheapest network to train long. */
    static MultiLayerNetwork selfAttentionOnly() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(5).dataType(DataType.FLOAT).updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER)
                .list()
                .layer(new SelfAttentionLayer.Builder().nIn(N_IN).nOut(N_IN).nHeads(2).projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(N_IN).nOut(CLASSES).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(N_IN, T))
                .build());
        net.init();
        return net;
    }

    /** A network holding a LearnedSelfAttentionLayer (never run: it fails in DL4J itself). */
    static MultiLayerNetwork learned() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(3).dataType(DataType.FLOAT).list()
                .layer(new LearnedSelfAttentionLayer.Builder().nIn(N_IN).nOut(N_IN).nHeads(2).nQueries(3)
                        .projectInput(true).build())
                .layer(new SelfAttentionLayer.Builder().nIn(N_IN).nOut(N_IN).nHeads(2).projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(N_IN).nOut(CLASSES).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(N_IN, T))
                .build());
        net.init();
        return net;
    }

    /** Random features {@code [mb, N_IN, T]}. */
    static INDArray features(int mb, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, mb, N_IN, T);
    }

    /** Key masks {@code [mb, T]}: row 0 all ones, row 1 a prefix of 4, row 2 with a hole, the rest full. */
    static INDArray mask(int mb) {
        INDArray m = Nd4j.ones(DataType.FLOAT, mb, T);
        for (int t = 4; t < T; t++) {
            m.putScalar(1, t, 0);
        }
        if (mb > 2) {
            m.putScalar(2, 2, 0);
        }
        return m;
    }

    /** A minibatch with one-hot labels for every step. */
    static DataSet data(int mb, long seed, boolean masked) {
        INDArray f = features(mb, seed);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, mb, CLASSES, T);
        for (int b = 0; b < mb; b++) {
            for (int t = 0; t < T; t++) {
                labels.putScalar(b, (b + t) % CLASSES, t, 1);
            }
        }
        INDArray m = masked ? mask(mb) : null;
        return new DataSet(f, labels, m, m);
    }
}
