package dev.headwatch.dl4j;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.AttentionVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LearnedSelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.RecurrentAttentionLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.conf.layers.util.MaskZeroLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every attention layer DL4J can train, with the listener attached: the configurations of DL4J's own attention
 * tests (LSTM into SelfAttentionLayer, RecurrentAttentionLayer and AttentionVertex, with and without input
 * projection and prefix masks, in float and double) and legal but unusual ones (queries and keys of different
 * widths or lengths, an input preprocessor before the layer, wrappers). Each attention layer is read with
 * {@code reconstructionError} at float precision in every observation, or listed as skipped with its reason;
 * training's parameters are those of the same network trained without the listener.
 */
class AttentionConfigurationsTest {

    /** Float32 forward passes rebuilt from float32 values: a few ulps of the layer output. */
    private static final double FLOAT_PRECISION = 1e-5;
    private static final int N_IN = 3;
    private static final int T = 4;
    private static final int CLASSES = 3;
    private static final int WIDTH = 6;

    /**
     * One network to train: how to build it (twice, identically), its minibatch, the layers that must be read
     * and those that must be listed as skipped.
     */
    record Config(String name, Supplier<Model> model, Function<Model, Object> data, Set<String> read,
                  Set<String> skipped) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Config> configurations() {
        List<Config> c = new ArrayList<>();
        // DL4J's own: minibatches of 1 and 3, with and without its prefix masks, in float and double
        record Run(DataType type, int mb, boolean masked) {
        }
        for (Run run : List.of(new Run(DataType.FLOAT, 1, false), new Run(DataType.FLOAT, 3, true),
                new Run(DataType.DOUBLE, 3, true))) {
            DataType type = run.type();
            int mb = run.mb();
            boolean masked = run.masked();
            String tag = type + " mb=" + mb + (masked ? " masked" : "");
            c.add(pooled("lstm -> projected self-attention, " + tag, type,
                    new SelfAttentionLayer.Builder().nOut(8).nHeads(2).projectInput(true).build(), mb, masked));
            c.add(pooled("lstm -> self-attention without projection, " + tag, type,
                    new SelfAttentionLayer.Builder().nHeads(1).projectInput(false).build(), mb, masked));
            c.add(pooled("lstm -> recurrent attention, " + tag, type,
                    new RecurrentAttentionLayer.Builder().nIn(WIDTH).nOut(WIDTH).nHeads(1).projectInput(false)
                            .hasBias(false).activation(Activation.IDENTITY).build(), mb, masked));
            for (boolean project : new boolean[] {false, true}) {
                c.add(vertexGraph("lstm -> attention vertex" + (project ? " projected, " : ", ") + tag, type,
                        false, project, mb, masked));
            }
        }
        for (boolean project : new boolean[] {false, true}) {
            c.add(vertexGraph("lstm -> attention vertex (one input)" + (project ? " projected" : ""), DataType.FLOAT,
                    true, project, 3, true));
        }
        c.add(pooled("recurrent attention projected, nIn 6 != nOut 4", DataType.FLOAT,
                new RecurrentAttentionLayer.Builder().nIn(WIDTH).nOut(4).nHeads(2).headSize(3).projectInput(true)
                        .activation(Activation.TANH).build(), 3, true));
        c.add(widths("attention vertex, nInQueries 6 != nInKeys 4"));
        c.add(preprocessed("dense -> self-attention through FeedForwardToRnnPreProcessor (network)", false));
        c.add(preprocessed("dense -> self-attention through FeedForwardToRnnPreProcessor (graph)", true));
        c.add(wrapped("MaskZeroLayer(self-attention)", new MaskZeroLayer(projected(), 0.0), Set.of("layer1"), Set.of()));
        c.add(wrapped("FrozenLayer(self-attention)", new FrozenLayer(projected()), Set.of("layer1"), Set.of()));
        c.add(wrapped("FrozenLayerWithBackprop(MaskZeroLayer(self-attention))",
                new FrozenLayerWithBackprop(new MaskZeroLayer(projected(), 0.0)), Set.of("layer1"), Set.of()));
        c.add(cross("cross-attention vertex, 2 queries over 4 keys", false));
        c.add(cross("cross-attention vertex, 2 queries over 4 keys with a key mask", true));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configurations")
    void everyAttentionLayer_isReadExactly_orListedWithItsReason(Config c) {
        Model net = c.model().get();
        Model twin = c.model().get();
        List<Observation> seen = new ArrayList<>();
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(false).maxSequences(4)
                .sink(seen::add).build();
        net.setListeners(listener);
        for (int step = 0; step < 2; step++) {
            fit(net, c.data().apply(net));
            fit(twin, c.data().apply(twin));
        }
        listener.close();

        Set<String> read = new TreeSet<>();
        for (Observation o : seen) {
            for (HeadRecord r : o.heads()) {
                read.add(r.layer());
                assertThat(r.metrics().reconstructionError()).as("%s head %d at step %d", r.layer(), r.head(), o.step())
                        .isBetween(0.0, FLOAT_PRECISION);
            }
        }
        assertThat(read).as("layers read").isEqualTo(c.read());
        assertThat(seen).hasSize(c.read().isEmpty() ? 0 : 2);
        assertThat(listener.stats().analysisFailures()).isZero();
        List<AttentionLayers.Skipped> skipped = AttentionLayers.of(net).skipped();
        assertThat(skipped).extracting(AttentionLayers.Skipped::name).containsExactlyInAnyOrderElementsOf(c.skipped());
        assertThat(skipped).allSatisfy(s -> assertThat(s.reason()).isNotBlank());
        assertThat(net.params()).as("training unchanged by the listener").isEqualTo(twin.params());
    }

    /**
     * DL4J's LearnedSelfAttentionLayer configuration fails inside DL4J 1.0.0-M2.1 itself: the layer is listed with
     * that reason, and the listener changes nothing about how {@code fit()} ends.
     */
    @org.junit.jupiter.api.Test
    void learnedSelfAttention_isListedWithItsReason_andFitEndsAsWithoutTheListener() {
        Config c = pooled("learned", DataType.FLOAT, new LearnedSelfAttentionLayer.Builder().nOut(8).nHeads(2)
                .nQueries(3).projectInput(true).build(), 3, true);
        Model net = c.model().get();
        assertThat(AttentionLayers.of(net).skipped()).singleElement().satisfies(s -> {
            assertThat(s.name()).isEqualTo("layer1");
            assertThat(s.reason()).contains("LearnedSelfAttentionLayer");
        });
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(false).build();
        net.setListeners(listener);
        Class<?> with = failure(net, c.data().apply(net));
        Class<?> without = failure(c.model().get(), c.data().apply(net));
        listener.close();
        assertThat(with).as("how fit() ends with the listener").isEqualTo(without);
    }

    /** The class of what {@code fit()} throws, or null when it returns. */
    private static Class<?> failure(Model model, Object data) {
        try {
            fit(model, data);
            return null;
        } catch (RuntimeException e) {
            return e.getClass();
        }
    }

    private static void fit(Model model, Object data) {
        if (model instanceof MultiLayerNetwork net) {
            net.fit((DataSet) data);
        } else {
            ComputationGraph cg = (ComputationGraph) model;
            if (data instanceof DataSet ds) {
                cg.fit(ds);
            } else {
                cg.fit((MultiDataSet) data);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // the configurations

    private static NeuralNetConfiguration.Builder base(DataType type) {
        return new NeuralNetConfiguration.Builder().seed(12).dataType(type).activation(Activation.TANH)
                .updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER);
    }

    private static SelfAttentionLayer projected() {
        return new SelfAttentionLayer.Builder().nOut(WIDTH).nHeads(2).headSize(3).projectInput(true).build();
    }

    /** DL4J's layout: LSTM, the attention layer, max pooling over time, a softmax output. */
    private static Config pooled(String name, DataType type, Layer attention, int mb, boolean masked) {
        Supplier<Model> model = () -> {
            MultiLayerNetwork net = new MultiLayerNetwork(base(type).list()
                    .layer(new LSTM.Builder().nOut(WIDTH).build())
                    .layer(attention.clone())
                    .layer(new GlobalPoolingLayer.Builder().poolingType(PoolingType.MAX).build())
                    .layer(new OutputLayer.Builder().nOut(CLASSES).activation(Activation.SOFTMAX)
                            .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                    .setInputType(InputType.recurrent(N_IN))
                    .build());
            net.init();
            return net;
        };
        return new Config(name, model, m -> new DataSet(features(type, mb, T), classes(type, mb), masked ? mask(type, mb) : null,
                null), Set.of("layer1"), Set.of());
    }

    /** DL4J's AttentionVertex layout: queries, keys and values from three LSTMs (or one), pooled. */
    private static Config vertexGraph(String name, DataType type, boolean sameInput, boolean project, int mb,
                                      boolean masked) {
        Supplier<Model> model = () -> {
            var g = base(type).graphBuilder().addInputs("input")
                    .addLayer("lstmQueries", new LSTM.Builder().nOut(WIDTH).build(), "input");
            if (!sameInput) {
                g.addLayer("lstmKeys", new LSTM.Builder().nOut(WIDTH).build(), "input")
                        .addLayer("lstmValues", new LSTM.Builder().nOut(WIDTH).build(), "input");
            }
            AttentionVertex.Builder v = new AttentionVertex.Builder().nOut(WIDTH).nInQueries(WIDTH).nInKeys(WIDTH)
                    .nInValues(WIDTH);
            v = project ? v.nHeads(2).headSize(3).projectInput(true) : v.nHeads(1).projectInput(false);
            String k = sameInput ? "lstmQueries" : "lstmKeys";
            String val = sameInput ? "lstmQueries" : "lstmValues";
            return classifiedAttention(g.addVertex("attention", v.build(), "lstmQueries", k, val));
        };
        return new Config(name, model, m -> new DataSet(features(type, mb, T), classes(type, mb), masked ? mask(type, mb) : null,
                null), Set.of("attention"), Set.of());
    }

    /** Queries from a 6-wide LSTM, keys and values from a 4-wide one: Wq [2, 3, 6], Wk [2, 3, 4]. */
    private static Config widths(String name) {
        Supplier<Model> model = () -> {
            return classifiedAttention(base(DataType.FLOAT).graphBuilder().addInputs("input")
                    .addLayer("wide", new LSTM.Builder().nOut(WIDTH).build(), "input")
                    .addLayer("narrow", new LSTM.Builder().nOut(4).build(), "input")
                    .addVertex("attention", new AttentionVertex.Builder().nOut(8).nHeads(2).headSize(3).projectInput(true)
                            .nInQueries(WIDTH).nInKeys(4).nInValues(4).build(), "wide", "narrow", "narrow"));
        };
        return new Config(name, model, m -> new DataSet(features(DataType.FLOAT, 3, T), classes(DataType.FLOAT, 3),
                mask(DataType.FLOAT, 3), null), Set.of("attention"), Set.of());
    }

    /** The graph with its vertex "attention" max-pooled over time into a softmax classifier, initialised. */
    private static ComputationGraph classifiedAttention(ComputationGraphConfiguration.GraphBuilder g) {
        ComputationGraph cg = new ComputationGraph(g
                .addLayer("pooling", new GlobalPoolingLayer.Builder().poolingType(PoolingType.MAX).build(), "attention")
                .addLayer("output", new OutputLayer.Builder().nOut(CLASSES).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build(), "pooling")
                .setOutputs("output").setInputTypes(InputType.recurrent(N_IN)).build());
        cg.init();
        return cg;
    }

    /**
     * A dense layer on every time step, then self-attention: DL4J folds the steps into rows for the dense layer
     * and unfolds them with a FeedForwardToRnnPreProcessor before the attention layer.
     */
    private static Config preprocessed(String name, boolean graph) {
        Supplier<Model> model = () -> {
            Layer dense = new DenseLayer.Builder().nOut(WIDTH).build();
            Layer out = new RnnOutputLayer.Builder().nOut(CLASSES).activation(Activation.SOFTMAX)
                    .lossFunction(LossFunctions.LossFunction.MCXENT).build();
            if (graph) {
                ComputationGraph cg = new ComputationGraph(base(DataType.FLOAT).graphBuilder().addInputs("input")
                        .addLayer("dense", dense, "input")
                        .addLayer("attention", projected(), "dense")
                        .addLayer("output", out, "attention")
                        .setOutputs("output").setInputTypes(InputType.recurrent(N_IN, T)).build());
                cg.init();
                return cg;
            }
            MultiLayerNetwork net = new MultiLayerNetwork(base(DataType.FLOAT).list()
                    .layer(dense).layer(projected()).layer(out)
                    .setInputType(InputType.recurrent(N_IN, T)).build());
            net.init();
            return net;
        };
        return new Config(name, model, m -> new DataSet(features(DataType.FLOAT, 3, T), steps(3, T), null, null),
                Set.of(graph ? "attention" : "layer1"), Set.of());
    }

    /** LSTM, a wrapped attention layer, a per-step output; the input has all-zero steps (masked by MaskZeroLayer). */
    private static Config wrapped(String name, Layer attention, Set<String> read, Set<String> skipped) {
        Supplier<Model> model = () -> {
            MultiLayerNetwork net = new MultiLayerNetwork(base(DataType.FLOAT).list()
                    .layer(new LSTM.Builder().nOut(WIDTH).build())
                    .layer(attention.clone())
                    .layer(new RnnOutputLayer.Builder().nOut(CLASSES).activation(Activation.SOFTMAX)
                            .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                    .setInputType(InputType.recurrent(N_IN, T))
                    .build());
            net.init();
            return net;
        };
        return new Config(name, model, m -> new DataSet(zeroStepsFeatures(), steps(3, T), null, null), read, skipped);
    }

    /** Queries of 2 steps attend over keys and values of 4 steps (two network inputs). */
    private static Config cross(String name, boolean keyMask) {
        Supplier<Model> model = () -> {
            ComputationGraph cg = new ComputationGraph(base(DataType.FLOAT).graphBuilder().addInputs("queries", "keys")
                    .addVertex("attention", new AttentionVertex.Builder().nOut(WIDTH).nHeads(2).headSize(3).projectInput(true)
                            .nInQueries(N_IN).nInKeys(N_IN).nInValues(N_IN).build(), "queries", "keys", "keys")
                    .addLayer("output", new RnnOutputLayer.Builder().nOut(CLASSES).activation(Activation.SOFTMAX)
                            .lossFunction(LossFunctions.LossFunction.MCXENT).build(), "attention")
                    .setOutputs("output").setInputTypes(InputType.recurrent(N_IN, 2), InputType.recurrent(N_IN, T)).build());
            cg.init();
            return cg;
        };
        return new Config(name, model, m -> new MultiDataSet(
                new INDArray[] {features(DataType.FLOAT, 3, 2), features(DataType.FLOAT, 3, T)}, new INDArray[] {steps(3, 2)},
                keyMask ? new INDArray[] {null, mask(DataType.FLOAT, 3)} : null, null), Set.of("attention"), Set.of());
    }

    // ------------------------------------------------------------------------------------------------
    // data

    private static INDArray features(DataType type, int mb, int steps) {
        Nd4j.getRandom().setSeed(31L * mb + steps);
        return Nd4j.rand(type, mb, N_IN, steps);
    }

    /** DL4J's test masks: sequence i loses its last i + 1 steps (none when that would leave no step). */
    private static INDArray mask(DataType type, int mb) {
        INDArray m = Nd4j.ones(type, mb, T);
        for (int i = 0; i < mb; i++) {
            int firstMasked = T - 1 - i == 0 ? T : T - 1 - i;
            for (int t = firstMasked; t < T; t++) {
                m.putScalar(i, t, 0.0);
            }
        }
        return m;
    }

    private static INDArray classes(DataType type, int mb) {
        INDArray labels = Nd4j.zeros(type, mb, CLASSES);
        for (int i = 0; i < mb; i++) {
            labels.putScalar(i, i % CLASSES, 1.0);
        }
        return labels;
    }

    private static INDArray steps(int mb, int steps) {
        INDArray labels = Nd4j.zeros(DataType.FLOAT, mb, CLASSES, steps);
        for (int i = 0; i < mb; i++) {
            for (int t = 0; t < steps; t++) {
                labels.putScalar(i, (i + t) % CLASSES, t, 1.0);
            }
        }
        return labels;
    }

    /** Random features whose last step (sequence 1) and last two steps (sequence 2) are all zero. */
    private static INDArray zeroStepsFeatures() {
        INDArray f = features(DataType.FLOAT, 3, T).addi(0.1);
        f.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.point(T - 1)).assign(0);
        f.get(org.nd4j.linalg.indexing.NDArrayIndex.point(2), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(T - 2, T)).assign(0);
        return f;
    }
}
