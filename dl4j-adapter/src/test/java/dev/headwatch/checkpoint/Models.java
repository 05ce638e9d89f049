package dev.headwatch.checkpoint;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.AttentionVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.listeners.CheckpointListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small attention models trained for real, shared by the checkpoint tests. */
public final class Models {

    public static final int N_IN = 8;
    public static final int T = 6;
    public static final int CLASSES = 3;
    /** A layer name that would inject markup if a report did not escape it. */
    public static final String HOSTILE_NAME = "<script>alert('x')</script>&";

    private Models() {
    }

    /** Two self-attention layers (2 heads of 4, then 4 heads of 2); the first has a hostile name. */
    public static MultiLayerNetwork mln() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(7).dataType(DataType.FLOAT).updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER)
                .list()
                .layer(new SelfAttentionLayer.Builder().name(HOSTILE_NAME).nIn(N_IN).nOut(N_IN).nHeads(2).headSize(4)
                        .projectInput(true).build())
                .layer(new SelfAttentionLayer.Builder().name("second").nIn(N_IN).nOut(N_IN).nHeads(4).headSize(2)
                        .projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(N_IN).nOut(CLASSES).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(N_IN, T))
                .build());
        net.init();
        return net;
    }

    /** {@link #mln()} trained 7 steps with DL4J's CheckpointListener saving every 2nd iteration into {@code dir}. */
    public static Path checkpointSeries(Path dir) throws IOException {
        Files.createDirectories(dir);
        MultiLayerNetwork net = mln();
        net.setListeners(new CheckpointListener.Builder(dir.toFile()).saveEveryNIterations(2).keepAll().build());
        for (int i = 0; i < 7; i++) {
            net.fit(data(4, i));
        }
        return dir;
    }

    /** {@link #graph()} trained 3 steps and saved as a ModelSerializer zip. */
    public static Path graphZip(Path file) throws IOException {
        ComputationGraph cg = graph();
        for (int i = 0; i < 3; i++) {
            cg.fit(data(4, 10 + i));
        }
        ModelSerializer.writeModel(cg, file.toFile(), true);
        return file;
    }

    /** A self-attention layer and an attention vertex. */
    public static ComputationGraph graph() {
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
                .addLayer("out", new RnnOutputLayer.Builder().nIn(N_IN).nOut(CLASSES).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build(), "att")
                .setOutputs("out")
                .build());
        cg.init();
        return cg;
    }

    /** A SameDiff model around the fused multi-head attention op (2 heads of 4), trained 3 steps. */
    public static SameDiff sameDiff() {
        SameDiff sd = SameDiff.create();
        Nd4j.getRandom().setSeed(5);
        SDVariable in = sd.placeHolder("input", DataType.FLOAT, -1, N_IN, T);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, N_IN, T);
        SDVariable wq = sd.var("Wq", Nd4j.randn(DataType.FLOAT, 2, 4, N_IN).muli(0.3));
        SDVariable wk = sd.var("Wk", Nd4j.randn(DataType.FLOAT, 2, 4, N_IN).muli(0.3));
        SDVariable wv = sd.var("Wv", Nd4j.randn(DataType.FLOAT, 2, 4, N_IN).muli(0.3));
        SDVariable wo = sd.var("Wo", Nd4j.randn(DataType.FLOAT, 8, N_IN).muli(0.3));
        SDVariable out = sd.nn().multiHeadDotProductAttention("attention", in, in, in, wq, wk, wv, wo, null, true);
        sd.loss().meanSquaredError("loss", label, out, null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-2))
                .dataSetFeatureMapping("input").dataSetLabelMapping("label").build());
        for (int i = 0; i < 3; i++) {
            sd.fit(new DataSet(features(4, 20 + i), features(4, 40 + i)));
        }
        return sd;
    }

    /** Heads of {@link #handWritten()}. */
    public static final int HAND_HEADS = 2;

    /**
     * A hand-written causal attention block in SameDiff, as a GPT block writes it: {@code Wq, Wk, Wv [d, d]}
     * applied as {@code x W} (head h in columns {@code h*hs ..}), named {@code q, k, v} and {@code out}
     * ({@code [mb, heads, T, hs]}); input {@code x [mb, T, d]}, {@code d = N_IN}. Trained 2 steps.
     */
    public static SameDiff handWritten() {
        int hs = N_IN / HAND_HEADS;
        SameDiff sd = SameDiff.create();
        Nd4j.getRandom().setSeed(13);
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, T, N_IN);
        SDVariable label = sd.placeHolder("y", DataType.FLOAT, -1, T, N_IN);
        SDVariable x2 = sd.reshape(x, -1, N_IN);
        SDVariable[] qkv = new SDVariable[3];
        String[] names = {"q", "k", "v"};
        for (int i = 0; i < 3; i++) {
            SDVariable w = sd.var("W" + names[i], Nd4j.randn(DataType.FLOAT, N_IN, N_IN).muli(0.4));
            qkv[i] = sd.permute(names[i], sd.reshape(sd.mmul(x2, w), -1, T, HAND_HEADS, hs), 0, 2, 1, 3);
        }
        float[][] causal = new float[T][T];
        for (int i = 0; i < T; i++) {
            for (int j = i + 1; j < T; j++) {
                causal[i][j] = -1e9f;
            }
        }
        SDVariable logits = sd.mmul(qkv[0], qkv[1], false, true, false).mul(1.0 / Math.sqrt(hs))
                .add(sd.constant("mask", Nd4j.create(causal)));
        SDVariable out = sd.mmul("out", sd.nn.softmax(logits, -1), qkv[2]);
        SDVariable merged = sd.reshape(sd.permute(out, 0, 2, 1, 3), -1, N_IN);
        SDVariable y = sd.reshape(sd.mmul(merged, sd.var("Wo", Nd4j.randn(DataType.FLOAT, N_IN, N_IN).muli(0.4))),
                -1, T, N_IN);
        sd.loss().meanSquaredError("loss", label, y, null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-2))
                .dataSetFeatureMapping("x").dataSetLabelMapping("y").build());
        for (int i = 0; i < 2; i++) {
            sd.fit(new DataSet(sequences(4, 60 + i), sequences(4, 70 + i)));
        }
        return sd;
    }

    /** Random batch-first sequences {@code [mb, T, N_IN]}. */
    public static INDArray sequences(int mb, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, mb, T, N_IN);
    }

    /** Random features {@code [mb, N_IN, T]}. */
    public static INDArray features(int mb, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, mb, N_IN, T);
    }

    /** A minibatch with one-hot labels for every step. */
    public static DataSet data(int mb, long seed) {
        INDArray labels = Nd4j.zeros(DataType.FLOAT, mb, CLASSES, T);
        for (int b = 0; b < mb; b++) {
            for (int t = 0; t < T; t++) {
                labels.putScalar(b, (b + t + (int) seed) % CLASSES, t, 1);
            }
        }
        return new DataSet(features(mb, seed), labels);
    }
}
