package dev.headwatch.examples.papers;

import java.io.File;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

import org.nd4j.autodiff.listeners.checkpoint.Checkpoint;
import org.nd4j.autodiff.listeners.checkpoint.CheckpointListener;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.math.Spectrum;
import dev.headwatch.examples.demo.DemoRun;
import dev.headwatch.examples.demo.GptConfig;
import dev.headwatch.examples.demo.HeadProbe;
import dev.headwatch.examples.demo.TinyGpt;
import dev.headwatch.examples.text.ByteCorpus;

/**
 * "On the Invariants of Softmax Attention" (arXiv:2605.02907), on the demo transformer trained on Europarl.
 *
 * <ul>
 *   <li>Mechanism: every row of the energy field sums to zero ({@code zeroSumResidual} at float precision);
 *       with full centring ({@code FULL} visibility over the same Q, K) the energy field has rank at most
 *       the head dimension, seen as a cliff in its singular values right after {@code sigma_headDim}.</li>
 *   <li>Model level: on trained heads the energy is spread over key positions ({@code participation} high)
 *       and the keys are incoherent ({@code keyCoherence} low), at context lengths 64, 128 and 256 (the
 *       trained weights rebuilt for each length) and on several held-out texts.</li>
 *   <li>The per-head monitor curves over training, from the run's checkpoints.</li>
 * </ul>
 */
public final class Invariants {

    /**
     * @param steps           demo training steps
     * @param checkpoints     checkpoints kept over the run (the points of the curves)
     * @param contexts        context lengths to measure the trained model at
     * @param texts           disjoint held-out texts
     * @param sequencesPerText probe sequences drawn from each text
     * @param seed            seed of training and probes
     * @param work            directory of a demo run with the default shape (its {@code model.fb} and
     *                        {@code checkpoints/} are reused), or where to train one
     */
    public record Config(int steps, int checkpoints, int[] contexts, int texts, int sequencesPerText, long seed,
                         Path work) {

        public static Config paper(Path work) {
            return new Config(600, 12, new int[] {64, 128, 256}, 3, 2, 42, work);
        }
    }

    /** Per context length: means over heads, texts and sequences. */
    public record AtContext(int context, double participation, double minParticipation, double keyCoherence,
                            double maxKeyCoherence, double maxZeroSumResidual) {
    }

    /**
     * @param cliff          smallest, over heads, of {@code sigma_d / sigma_(d+1)} of the fully centred energy
     *                       field (dense SVD of the n x n field)
     * @param numericalRank  largest numerical rank of a fully centred energy field (the head dimension d)
     * @param steps          checkpoint iterations; {@code curves[layer*heads+head][i]} the participation there
     */
    public record Result(Config config, int headDim, double lossStart, double lossEnd, List<AtContext> contexts,
                         double cliff, double numericalRank, int[] steps, double[][] curves, double[][] entropy) {

        public String line() {
            StringBuilder s = new StringBuilder("RESULT invariants checkpoints=" + steps.length);
            if (!Double.isNaN(lossStart)) {
                s.append(String.format(Locale.ROOT, " loss=%.3f->%.3f", lossStart, lossEnd));
            }
            s.append(String.format(Locale.ROOT, " headDim=%d cliff=%.3g numericalRank=%d", headDim, cliff,
                    (int) numericalRank));
            double zs = 0;
            for (AtContext c : contexts) {
                zs = Math.max(zs, c.maxZeroSumResidual());
                s.append(String.format(Locale.ROOT, " participation%d=%.3f keyCoherence%d=%.2f", c.context(),
                        c.participation(), c.context(), c.keyCoherence()));
            }
            s.append(String.format(Locale.ROOT, " maxZeroSumResidual=%.2g", zs));
            return s.toString();
        }
    }

    private Invariants() {
    }

    public static Result run(Config c, PrintStream console) {
        DemoRun.Options o = DemoRun.Options.defaults(c.steps(), c.work(), 2, 4, 64, c.seed(), null);
        o = new DemoRun.Options(o.steps(), o.out(), o.model(), o.seed(), null, o.batchSize(), o.learningRate(),
                Math.max(1, c.steps() / c.checkpoints()));
        File saved = c.work().resolve("model.fb").toFile();
        SameDiff trainedModel;
        double lossStart = Double.NaN;
        double lossEnd = Double.NaN;
        if (saved.isFile()) {
            console.println("using the trained demo model " + saved);
            trainedModel = SameDiff.load(saved, false);
        } else {
            DemoRun.Result trained = DemoRun.train(o, console, false, List.of());
            trainedModel = trained.model();
            lossStart = trained.lossAtStart(20);
            lossEnd = trained.lossAtEnd(20);
        }
        GptConfig model = o.model();
        ByteCorpus heldOut = DemoRun.corpora()[1];

        // Curves over training: participation and entropy per head on one probe batch, per checkpoint.
        File dir = c.work().resolve("checkpoints").toFile();
        List<Checkpoint> cps = CheckpointListener.availableCheckpoints(dir);
        var probe = TinyGpt.batch(heldOut.windows(c.sequencesPerText(), model.context(), new SplittableRandom(c.seed())),
                ByteCorpus.VOCAB);
        int nHeads = model.layers() * model.heads();
        int[] steps = new int[cps.size()];
        double[][] part = new double[nHeads][cps.size()];
        double[][] ent = new double[nHeads][cps.size()];
        for (int i = 0; i < cps.size(); i++) {
            steps[i] = cps.get(i).getIteration() + 1;
            SameDiff sd = CheckpointListener.loadCheckpoint(dir, cps.get(i).getCheckpointNum(), false);
            List<List<HeadMetrics>> m = HeadProbe.measure(HeadProbe.run(sd, model, probe), model);
            for (int l = 0; l < model.layers(); l++) {
                for (int h = 0; h < model.heads(); h++) {
                    part[l * model.heads() + h][i] = m.get(l).get(h).participation();
                    ent[l * model.heads() + h][i] = m.get(l).get(h).entropy();
                }
            }
        }

        // The trained model at each context length, on disjoint held-out texts.
        int textLength = heldOut.size() / c.texts();
        List<AtContext> at = new ArrayList<>();
        double cliff = Double.POSITIVE_INFINITY;
        double numericalRank = 0;
        for (int context : c.contexts()) {
            GptConfig sized = model.withContext(context);
            SameDiff sd = context == model.context() ? trainedModel : TinyGpt.rebuild(trainedModel, sized);
            double sumP = 0, minP = Double.POSITIVE_INFINITY, sumK = 0, maxK = 0, maxZ = 0;
            int count = 0;
            for (int t = 0; t < c.texts(); t++) {
                ByteCorpus text = heldOut.slice(t * textLength, (t + 1) * textLength);
                var batch = TinyGpt.batch(text.windows(c.sequencesPerText(), context,
                        new SplittableRandom(c.seed() + t)), ByteCorpus.VOCAB);
                Map<String, INDArray> vars = HeadProbe.run(sd, sized, batch);
                for (int l = 0; l < sized.layers(); l++) {
                    for (int b = 0; b < c.sequencesPerText(); b++) {
                        for (int h = 0; h < sized.heads(); h++) {
                            HeadInput causal = HeadProbe.head(vars, l, b, h);
                            HeadMetrics m = dev.headwatch.core.HeadAnalysis.compute(causal);
                            sumP += m.participation();
                            minP = Math.min(minP, m.participation());
                            sumK += m.keyCoherence();
                            maxK = Math.max(maxK, m.keyCoherence());
                            maxZ = Math.max(maxZ, m.zeroSumResidual());
                            count++;
                            if (context == model.context()) {
                                HeadInput full = HeadInput.of(causal.q(), causal.k(), causal.v(), Visibility.FULL,
                                        Double.NaN);
                                // Dense SVD of the n x n field, so the cliff is measured, not built in.
                                double[][] e = dev.headwatch.core.math.EnergyField.energy(full);
                                double[] flat = new double[e.length * e.length];
                                for (int i = 0; i < e.length; i++) {
                                    System.arraycopy(e[i], 0, flat, i * e.length, e.length);
                                }
                                double[] sigma = Spectrum.dense(flat, e.length);
                                java.util.Arrays.sort(sigma);
                                for (int i = 0; i < sigma.length / 2; i++) {
                                    double tmp = sigma[i];
                                    sigma[i] = sigma[sigma.length - 1 - i];
                                    sigma[sigma.length - 1 - i] = tmp;
                                }
                                int d = sized.headDim();
                                cliff = Math.min(cliff, sigma[d - 1] / sigma[d]);
                                numericalRank = Math.max(numericalRank,
                                        dev.headwatch.core.HeadAnalysis.compute(full).numericalRank());
                            }
                        }
                    }
                }
            }
            at.add(new AtContext(context, sumP / count, minP, sumK / count, maxK, maxZ));
        }
        return new Result(c, model.headDim(), lossStart, lossEnd, at, cliff,
                numericalRank, steps, part, ent);
    }

    /** Participation of every head over training. */
    public static Path plot(Result r, Path png) {
        Plot p = new Plot("Demo transformer: per-head participation over training", "training step",
                "participation (energy spread over keys)");
        double[] xs = java.util.Arrays.stream(r.steps()).asDoubleStream().toArray();
        int heads = r.curves().length / 2;
        for (int i = 0; i < r.curves().length; i++) {
            p.line("layer" + i / heads + " head " + i % heads, xs, r.curves()[i]);
        }
        return p.save(png);
    }
}
