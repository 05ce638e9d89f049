package dev.headwatch.examples.bench;

import dev.headwatch.examples.UpstreamNoise;
import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.sink.ObservationSink;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertConfig;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.alert.Severity;
import dev.headwatch.dl4j.AttentionMonitorListener;
import dev.headwatch.examples.demo.DemoRun;
import dev.headwatch.examples.demo.Induce;
import dev.headwatch.examples.demo.TinyGpt;
import dev.headwatch.examples.layerapi.AttentionGraphExample;
import dev.headwatch.examples.layerapi.ReversalTask;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.AttentionVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.RecurrentAttentionLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Measures the default alert rules against training runs whose health is known: healthy runs of several
 * attention models and seeds, which should raise no WARNING or CRITICAL alert, and runs with a failure
 * induced at mid-run, which should. Every run is observed at every iteration; the observations are recorded
 * and the rules evaluated on them afterwards (the engine is a function of the observation sequence, so this
 * equals evaluating them live), which also lets a recording be replayed against other settings.
 */
public final class AlertBenchmark {

    /** The healthy models. */
    public enum Model {
        /** Two SelfAttentionLayers of 4 heads, Xavier, Adam 1e-3; the label of every step is one marked token. */
        MARKED_TOKEN("marked-token"),
        /** {@link ReversalTask}: two SelfAttentionLayers of 4 heads reverse a sequence. */
        REVERSAL("reversal"),
        /** {@link AttentionGraphExample}: a ComputationGraph with one 4-head SelfAttentionLayer. */
        GRAPH_EXAMPLE("graph-example"),
        /** DL4J's AttentionLayerTest self-attention stack (LSTM, 2-head SelfAttentionLayer, max pooling). */
        DL4J_SELF_ATTENTION("dl4j-self-attention"),
        /** DL4J's AttentionLayerTest AttentionVertex graph (two SimpleRnn, 2-head AttentionVertex). */
        DL4J_ATTENTION_VERTEX("dl4j-attention-vertex"),
        /** DL4J's AttentionLayerTest RecurrentAttentionLayer stack (LSTM, 1-head recurrent attention). */
        DL4J_RECURRENT_ATTENTION("dl4j-recurrent-attention"),
        /** The demo transformer (SameDiff, 2 blocks x 4 heads, causal) on Europarl text. */
        DEMO("demo");

        final String id;

        Model(String id) {
            this.id = id;
        }

        static Model parse(String id) {
            return Stream.of(values()).filter(m -> m.id.equals(id)).findFirst().orElseThrow(
                    () -> new IllegalArgumentException("unknown model '" + id + "'; choose from " + ids(values())));
        }
    }

    /**
     * The failures induced at mid-run into the demo, a live model (its heads are not uniform, so each failure
     * changes what a healthy run shows), on head 0 of layer 0, and the rules expected to report them.
     */
    public enum Failure {
        /** The learning rate x333 at once (Adam 3e-3 to 1): the loss diverges; any WARNING or CRITICAL counts. */
        LR_DIVERGE("lr-diverge", Set.of(), null),
        /** The learning rate x1.25 every iteration (3e-3 to 1 in 27 iterations): any WARNING or CRITICAL counts. */
        LR_RAMP("lr-ramp", Set.of(), null),
        /** Head 0's query weights x30 once: its logits x30, attention turns one-hot. */
        QUERY_X30("query-x30", Set.of(Alert.ENTROPY_COLLAPSE, Alert.LOGIT_GROWTH), Induce.ENTROPY_COLLAPSE),
        /** Head 0's query weights held at zero: uniform attention, no energy. */
        DEAD_HEAD("dead-head", Set.of(Alert.DEAD_HEAD), Induce.DEAD_HEAD),
        /** Head 1's query and key weights held equal to head 0's. */
        DUPLICATE_HEAD("duplicate-head", Set.of(Alert.REDUNDANT_HEAD), Induce.REDUNDANT_HEAD),
        /** NaN written into one of head 0's query weights once. */
        NAN("nan", Set.of(Alert.NON_FINITE), null);

        final String id;
        final Set<Alert> expected;
        /** The demo's own break that does it, or null when {@link #listener} does. */
        final Induce induce;

        Failure(String id, Set<Alert> expected, Induce induce) {
            this.id = id;
            this.expected = expected;
            this.induce = induce;
        }

        /** The listener that applies this failure from iteration {@code from} on, if the demo cannot. */
        List<Listener> listener(int from) {
            if (induce != null) {
                return List.of();
            }
            return List.of(Induce.before(from, (sd, it) -> {
                switch (this) {
                    // The updaters read the rate from the training configuration's Adam at every step.
                    case LR_DIVERGE -> ((Adam) sd.getTrainingConfig().getUpdater()).setLearningRate(1);
                    case LR_RAMP -> {
                        Adam adam = (Adam) sd.getTrainingConfig().getUpdater();
                        adam.setLearningRate(Math.min(1, adam.getLearningRate() * 1.25));
                    }
                    case NAN -> {
                        if (it == from) {
                            sd.getVariable(TinyGpt.var(0, "Wq")).getArr().putScalar(0, 0, Float.NaN);
                        }
                    }
                    default -> throw new IllegalStateException(name());
                }
            }));
        }

        static Failure parse(String id) {
            return Stream.of(values()).filter(f -> f.id.equals(id)).findFirst().orElseThrow(
                    () -> new IllegalArgumentException("unknown failure '" + id + "'; choose from " + ids(values())));
        }

        String expectation() {
            return expected.isEmpty() ? "any WARNING+"
                    : String.join(" or ", expected.stream().map(Alert::name).sorted().toList());
        }
    }

    private static String ids(Enum<?>[] values) {
        return String.join(", ", Stream.of(values).map(v -> v instanceof Model m ? m.id : ((Failure) v).id).toList());
    }

    /**
     * One recorded run.
     *
     * @param model        the model's id
     * @param seed         the seed of weights and data
     * @param failure      the induced failure's id, or empty for a healthy run
     * @param inducedAt    the iteration from which the failure acts (-1 when healthy)
     * @param losses       the training loss of every iteration
     * @param observations what the monitor observed, every iteration
     */
    public record Run(String model, long seed, String failure, long inducedAt, double[] losses,
                      List<Observation> observations) {
        boolean healthy() {
            return failure.isEmpty();
        }

        String name() {
            return model + " seed " + seed + (healthy() ? "" : " + " + failure);
        }

        /** The first iteration from the induction on whose loss is not finite or above 10x the first loss. */
        long blowUp() {
            for (int i = (int) Math.max(0, inducedAt); i < losses.length; i++) {
                if (!Double.isFinite(losses[i]) || losses[i] > 10 * losses[0]) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** Sizes of the DL4J attention configurations' data: AttentionGraphExample's counting task. */
    private static final int LAYER_SIZE = 8;
    private static final int BATCH = 32;
    private static final int MARKED_VOCAB = 8;
    private static final int MARKED_LENGTH = 12;

    private AlertBenchmark() {
    }

    // ---- training ----------------------------------------------------------------------------------------

    /** A network, how to fit one minibatch, and where minibatches come from. */
    private record Trainee(org.deeplearning4j.nn.api.Model net, Consumer<DataSet> fit, Supplier<DataSet> data) {
    }

    /** Trains a healthy run of {@code steps} iterations. */
    public static Run healthy(Model model, long seed, int steps) {
        if (model == Model.DEMO) {
            return demo(seed, steps, null);
        }
        return train(model.id, seed, trainee(model, seed), steps);
    }

    /** Trains the demo for {@code steps} iterations with {@code failure} acting from {@code steps / 2}. */
    public static Run induced(Failure failure, long seed, int steps) {
        return demo(seed, steps, failure);
    }

    private static Run train(String model, long seed, Trainee t, int steps) {
        return UpstreamNoise.mutedResult(() -> trainQuietly(model, seed, t, steps));
    }

    private static Run trainQuietly(String model, long seed, Trainee t, int steps) {
        List<Observation> observations = new ArrayList<>();
        AttentionMonitorListener monitor = AttentionMonitorListener.builder().background(false)
                .sink(observations::add).build();
        t.net().setListeners(monitor);
        double[] losses = new double[steps];
        for (int i = 0; i < steps; i++) {
            t.fit().accept(t.data().get());
            losses[i] = t.net().score();
        }
        monitor.close();
        return new Run(model, seed, "", -1, losses, observations);
    }

    private static Trainee trainee(Model model, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return switch (model) {
            case MARKED_TOKEN -> {
                MultiLayerNetwork net = markedToken(seed);
                yield new Trainee(net, net::fit, () -> markedTokenData(BATCH, random));
            }
            case REVERSAL -> {
                ReversalTask.Shape shape = new ReversalTask.Shape(16, 16, 32, 4, 16);
                MultiLayerNetwork net = ReversalTask.network(shape, seed);
                ReversalTask task = new ReversalTask(shape, seed);
                yield new Trainee(net, net::fit, task::next);
            }
            case GRAPH_EXAMPLE -> {
                ComputationGraph net = AttentionGraphExample.network(seed);
                yield new Trainee(net, net::fit, () -> AttentionGraphExample.data(BATCH, random));
            }
            case DL4J_SELF_ATTENTION -> {
                MultiLayerNetwork net = dl4jStack(seed, new SelfAttentionLayer.Builder().nOut(LAYER_SIZE).nHeads(2)
                        .projectInput(true).build());
                yield new Trainee(net, net::fit, () -> AttentionGraphExample.data(BATCH, random));
            }
            case DL4J_RECURRENT_ATTENTION -> {
                MultiLayerNetwork net = dl4jStack(seed, new RecurrentAttentionLayer.Builder().nIn(LAYER_SIZE)
                        .nOut(LAYER_SIZE).nHeads(1).projectInput(false).hasBias(false).build());
                yield new Trainee(net, net::fit, () -> AttentionGraphExample.data(BATCH, random));
            }
            case DL4J_ATTENTION_VERTEX -> {
                ComputationGraph net = dl4jAttentionVertex(seed);
                yield new Trainee(net, net::fit, () -> AttentionGraphExample.data(BATCH, random));
            }
            case DEMO -> throw new IllegalArgumentException("the demo trains through DemoRun");
        };
    }

    /** The model of issue #16: two 4-head SelfAttentionLayers, Xavier, Adam 1e-3. */
    static MultiLayerNetwork markedToken(long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(DataType.FLOAT).updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER)
                .list()
                .layer(new SelfAttentionLayer.Builder().nIn(MARKED_VOCAB + 1).nOut(32).nHeads(4).projectInput(true).build())
                .layer(new SelfAttentionLayer.Builder().nIn(32).nOut(32).nHeads(4).projectInput(true).build())
                .layer(new RnnOutputLayer.Builder().nIn(32).nOut(MARKED_VOCAB).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(MARKED_VOCAB + 1, MARKED_LENGTH))
                .build());
        net.init();
        return net;
    }

    /**
     * Random one-hot tokens {@code [mb, vocab + 1, T]} with one position per sequence marked in the extra
     * channel; the label of every step is the marked token.
     */
    static DataSet markedTokenData(int mb, SplittableRandom random) {
        INDArray x = Nd4j.zeros(DataType.FLOAT, mb, MARKED_VOCAB + 1, MARKED_LENGTH);
        INDArray y = Nd4j.zeros(DataType.FLOAT, mb, MARKED_VOCAB, MARKED_LENGTH);
        for (int b = 0; b < mb; b++) {
            int marked = random.nextInt(MARKED_LENGTH);
            int label = 0;
            for (int t = 0; t < MARKED_LENGTH; t++) {
                int token = random.nextInt(MARKED_VOCAB);
                x.putScalar(new long[] {b, token, t}, 1f);
                if (t == marked) {
                    x.putScalar(new long[] {b, MARKED_VOCAB, t}, 1f);
                    label = token;
                }
            }
            for (int t = 0; t < MARKED_LENGTH; t++) {
                y.putScalar(new long[] {b, label, t}, 1f);
            }
        }
        return new DataSet(x, y);
    }

    /** DL4J's AttentionLayerTest stack (LSTM, the attention layer, max pooling, softmax), trained with Adam. */
    private static MultiLayerNetwork dl4jStack(long seed, org.deeplearning4j.nn.conf.layers.Layer attention) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(DataType.FLOAT).activation(Activation.TANH).updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new LSTM.Builder().nOut(LAYER_SIZE).build())
                .layer(attention)
                .layer(new GlobalPoolingLayer.Builder().poolingType(PoolingType.MAX).build())
                .layer(new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.recurrent(AttentionGraphExample.VOCAB, AttentionGraphExample.LENGTH))
                .build());
        net.init();
        return net;
    }

    /** DL4J's AttentionLayerTest AttentionVertex graph, trained with Adam. */
    private static ComputationGraph dl4jAttentionVertex(long seed) {
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(DataType.FLOAT).activation(Activation.TANH).updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("input")
                .setInputTypes(InputType.recurrent(AttentionGraphExample.VOCAB, AttentionGraphExample.LENGTH))
                .addLayer("rnnKeys", new SimpleRnn.Builder().nOut(LAYER_SIZE).build(), "input")
                .addLayer("rnnQueries", new SimpleRnn.Builder().nOut(LAYER_SIZE).build(), "input")
                .addVertex("attention", new AttentionVertex.Builder().nOut(LAYER_SIZE).nHeads(2)
                        .nInKeys(LAYER_SIZE).nInValues(LAYER_SIZE).nInQueries(LAYER_SIZE).projectInput(true).build(),
                        "rnnQueries", "rnnKeys", "rnnKeys")
                .addLayer("pooling", new GlobalPoolingLayer.Builder().poolingType(PoolingType.MAX).build(), "attention")
                .addLayer("output", new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build(), "pooling")
                .setOutputs("output")
                .build());
        net.init();
        return net;
    }

    /**
     * The demo transformer at its defaults for {@code steps} iterations, in a scratch directory; with a
     * failure (or null) acting from {@code steps / 2}.
     */
    private static Run demo(long seed, int steps, Failure failure) {
        Path dir;
        try {
            dir = Files.createTempDirectory("headwatch-bench-demo");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try {
            List<Observation> observations = new ArrayList<>();
            int at = steps / 2;
            DemoRun.Options o = DemoRun.Options.defaults(steps, dir, 2, 4, 64, seed,
                    failure == null ? null : failure.induce);
            ObservationSink record = observations::add;
            DemoRun.Result r = DemoRun.train(o, new PrintStream(OutputStream.nullOutputStream()), false,
                    failure == null ? List.of() : failure.listener(at), List.of(record), () -> false);
            double[] losses = r.losses().stream().mapToDouble(Double::doubleValue).toArray();
            return new Run(Model.DEMO.id, seed, failure == null ? "" : failure.id, failure == null ? -1 : at, losses,
                    List.copyOf(observations));
        } finally {
            deleteQuietly(dir);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a scratch directory left behind is harmless
        }
    }

    // ---- evaluation --------------------------------------------------------------------------------------

    /** Every alert event the rules of {@code config} raise on a run's observations, in order. */
    public static List<AlertEvent> events(Run run, AlertConfig config) {
        AlertEngine engine = AlertEngine.of(config, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));
        List<AlertEvent> events = new ArrayList<>();
        for (Observation o : run.observations()) {
            events.addAll(engine.evaluate(o));
        }
        return events;
    }

    /** Whether an event names the broken head: head 0 of the first layer observed (alone or in a group). */
    private static boolean affects(Run run, AlertEvent e) {
        String layer0 = run.observations().get(0).heads().get(0).layer();
        return e.layer().equals(layer0) && e.heads().contains(0);
    }

    private static boolean warningOrWorse(AlertEvent e) {
        return e.severity() != Severity.INFO;
    }

    /**
     * Writes the benchmark's tables for these runs under {@code config}; with {@code details}, first every
     * WARNING or CRITICAL firing on a healthy run.
     */
    public static void report(List<Run> runs, AlertConfig config, boolean details, PrintWriter out) {
        Map<String, long[]> healthyFirings = new java.util.LinkedHashMap<>();
        for (Alert a : Alert.values()) {
            healthyFirings.put(a.name(), new long[2]); // firings, most firings naming one head in one run
        }
        long headObservations = 0;
        int healthyRuns = 0;
        Map<String, Integer> perModel = new java.util.LinkedHashMap<>();
        List<String[]> induced = new ArrayList<>();
        for (Run run : runs) {
            List<AlertEvent> events = events(run, config);
            List<AlertEvent> fired = events.stream().filter(e -> e.state() == AlertState.FIRING).toList();
            if (run.healthy()) {
                healthyRuns++;
                perModel.merge(run.model(), 1, Integer::sum);
                headObservations += run.observations().stream().mapToLong(o -> o.heads().size()).sum();
                Map<String, Integer> perHead = new HashMap<>();
                for (AlertEvent e : fired) {
                    if (details && warningOrWorse(e)) {
                        out.printf("  on a healthy run, %s: %s%n", run.name(), e.message());
                    }
                    long[] c = healthyFirings.computeIfAbsent(e.alert(), k -> new long[2]);
                    c[0]++;
                    // A finding on a group of heads counts once for each of its heads.
                    for (int head : e.heads()) {
                        c[1] = Math.max(c[1], perHead.merge(e.alert() + '\0' + e.layer() + '\0' + head, 1, Integer::sum));
                    }
                }
            } else {
                induced.add(inducedRow(run, fired));
            }
        }
        out.printf(Locale.ROOT, "healthy runs: %d (%s), %d head-observations%n", healthyRuns,
                String.join(", ", perModel.entrySet().stream().map(e -> e.getKey() + " x" + e.getValue()).toList()),
                headObservations);
        out.printf(Locale.ROOT, "%-20s %-8s %8s %10s %9s%n", "rule", "severity", "firings", "per 1000", "max/head");
        long warnings = 0;
        for (Map.Entry<String, long[]> e : healthyFirings.entrySet()) {
            Severity severity = Alert.valueOf(e.getKey()).severity();
            if (severity != Severity.INFO) {
                warnings += e.getValue()[0];
            }
            out.printf(Locale.ROOT, "%-20s %-8s %8d %10.3f %9d%n", e.getKey(), severity, e.getValue()[0],
                    perThousand(e.getValue()[0], headObservations), e.getValue()[1]);
        }
        out.printf(Locale.ROOT, "%-20s %-8s %8d %10.3f   (target <= 1.000)%n", "WARNING+ total", "", warnings,
                perThousand(warnings, headObservations));
        if (!induced.isEmpty()) {
            out.printf(Locale.ROOT, "%-34s %7s %-33s %-8s %-28s %8s %6s%n", "induced failure", "at", "expected",
                    "detected", "first firing after it", "blow-up", "lead");
            for (String[] row : induced) {
                out.printf(Locale.ROOT, "%-34s %7s %-33s %-8s %-28s %8s %6s%n", (Object[]) row);
            }
            long detected = induced.stream().filter(r -> r[3].equals("yes")).count();
            out.printf(Locale.ROOT, "detected: %d of %d induced failures%n", detected, induced.size());
        }
        out.flush();
    }

    private static double perThousand(long count, long total) {
        return total == 0 ? 0 : 1000.0 * count / total;
    }

    /** One row of the induced-failure table. */
    private static String[] inducedRow(Run run, List<AlertEvent> fired) {
        Failure failure = Failure.parse(run.failure());
        List<AlertEvent> after = fired.stream().filter(e -> e.step() >= run.inducedAt()).toList();
        AlertEvent hit = after.stream().filter(e -> failure.expected.isEmpty() ? warningOrWorse(e)
                : failure.expected.contains(Alert.valueOf(e.alert())) && affects(run, e)).findFirst().orElse(null);
        long blowUp = run.blowUp();
        String lead = hit == null || blowUp < 0 ? "-" : String.valueOf(blowUp - hit.step());
        return new String[] {run.name(), String.valueOf(run.inducedAt()), failure.expectation(),
                hit == null ? "NO" : "yes",
                hit == null ? "-" : hit.step() + " " + hit.alert() + " " + hit.layer() + "/"
                        + hit.heads().stream().map(String::valueOf).collect(Collectors.joining("+")),
                blowUp < 0 ? "-" : String.valueOf(blowUp), lead};
    }

    // ---- recordings --------------------------------------------------------------------------------------

    private static final String MAGIC = "headwatch-alert-bench-1";

    /** Writes runs to a gzip file that {@link #load} reads back. */
    public static void save(List<Run> runs, Path file) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(file)))) {
            out.writeUTF(MAGIC);
            out.writeInt(runs.size());
            for (Run r : runs) {
                out.writeUTF(r.model());
                out.writeLong(r.seed());
                out.writeUTF(r.failure());
                out.writeLong(r.inducedAt());
                out.writeInt(r.losses().length);
                for (double l : r.losses()) {
                    out.writeDouble(l);
                }
                out.writeInt(r.observations().size());
                for (Observation o : r.observations()) {
                    out.writeLong(o.step());
                    out.writeInt(o.heads().size());
                    for (HeadRecord h : o.heads()) {
                        out.writeUTF(h.layer());
                        out.writeInt(h.head());
                        out.writeInt(h.n());
                        out.writeInt(h.d());
                        out.writeUTF(h.mask().kind().name());
                        out.writeInt(h.mask().length());
                        out.writeDouble(h.qkSpectralNorm());
                        out.writeBoolean(h.nonFiniteInput());
                        for (HeadField f : HeadField.values()) {
                            out.writeDouble(h.metrics().get(f));
                        }
                    }
                }
            }
        }
    }

    /** Reads runs written by {@link #save}. */
    public static List<Run> load(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(file)))) {
            if (!MAGIC.equals(in.readUTF())) {
                throw new IOException(file + " is not an alert benchmark recording");
            }
            List<Run> runs = new ArrayList<>();
            for (int r = in.readInt(); r > 0; r--) {
                String model = in.readUTF();
                long seed = in.readLong();
                String failure = in.readUTF();
                long inducedAt = in.readLong();
                double[] losses = new double[in.readInt()];
                for (int i = 0; i < losses.length; i++) {
                    losses[i] = in.readDouble();
                }
                List<Observation> observations = new ArrayList<>();
                for (int o = in.readInt(); o > 0; o--) {
                    long step = in.readLong();
                    List<HeadRecord> heads = new ArrayList<>();
                    for (int h = in.readInt(); h > 0; h--) {
                        String layer = in.readUTF();
                        int head = in.readInt();
                        int n = in.readInt();
                        int d = in.readInt();
                        Visibility.Kind kind = Visibility.Kind.valueOf(in.readUTF());
                        int length = in.readInt();
                        double qk = in.readDouble();
                        boolean nonFinite = in.readBoolean();
                        HeadMetrics.Builder m = HeadMetrics.builder();
                        for (HeadField f : HeadField.values()) {
                            m.set(f, in.readDouble());
                        }
                        Visibility mask = switch (kind) {
                            case FULL -> Visibility.FULL;
                            case CAUSAL -> Visibility.CAUSAL;
                            case PADDED -> Visibility.padded(length);
                        };
                        heads.add(new HeadRecord(layer, head, n, d, mask, m.build(), qk, nonFinite));
                    }
                    // the loss a DL4J listener sees when it reads the heads: the one of the iteration before
                    double loss = step >= 1 && step <= losses.length ? losses[(int) step - 1] : Double.NaN;
                    observations.add(new Observation(step, 0, Instant.EPOCH, loss, heads));
                }
                runs.add(new Run(model, seed, failure, inducedAt, losses, observations));
            }
            return runs;
        }
    }

    /**
     * The runs of one benchmark: every failure on the demo, then every model healthy, seed by seed;
     * each run is handed to {@code done} as soon as it is trained. In this order a benchmark stopped early
     * holds every failure and every model it reached.
     */
    public static List<Run> train(List<Model> models, List<Failure> failures, int seeds, int steps, int demoSteps,
                                  PrintWriter progress, Consumer<List<Run>> done) {
        List<Run> runs = new ArrayList<>();
        for (Failure f : failures) {
            long start = System.nanoTime();
            Run run = induced(f, 1, steps);
            progress.printf(Locale.ROOT, "  %s: %d steps, induced at %d, %.0f s%n", run.name(), steps, run.inducedAt(),
                    (System.nanoTime() - start) / 1e9);
            progress.flush();
            runs.add(run);
            done.accept(runs);
        }
        for (long seed = 1; seed <= seeds; seed++) {
            for (Model m : models) {
                int n = m == Model.DEMO ? demoSteps : steps;
                if (n <= 0) {
                    continue;
                }
                long start = System.nanoTime();
                Run run = healthy(m, seed, n);
                progress.printf(Locale.ROOT, "  %s: %d steps, loss %.3f -> %.3f, %.0f s%n", run.name(), n,
                        run.losses()[0], run.losses()[run.losses().length - 1], (System.nanoTime() - start) / 1e9);
                progress.flush();
                runs.add(run);
                done.accept(runs);
            }
        }
        return runs;
    }
}
