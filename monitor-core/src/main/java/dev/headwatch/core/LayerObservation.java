package dev.headwatch.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntPredicate;

/**
 * One layer measured over its sampled sequences: the analysis that a {@link Monitor} runs on every layer of a
 * training step and that checkpoint analysis runs on every layer of a checkpoint, so that both report the
 * same numbers for the same input. Per sequence the {@link LayerAnalyzer} measures the observed heads
 * together; per head the metrics are aggregated over sequences ({@link HeadMetrics#aggregate}) into a
 * {@link HeadRecord} (its {@code n} and {@code d} the most frequent over sequences, its visibility that of the
 * first, {@code nonFiniteInput} whether any sequence's Q, K or V held NaN or infinity), and the between-head
 * matrices are averaged over sequences.
 */
public final class LayerObservation {

    private final LayerInput input;
    private final List<HeadRecord> records;
    private final double[][] energyCorrelation;
    private final double[][] attentionJsd;

    private LayerObservation(LayerInput input, List<HeadRecord> records, double[][] energyCorrelation,
                             double[][] attentionJsd) {
        this.input = input;
        this.records = List.copyOf(records);
        this.energyCorrelation = energyCorrelation;
        this.attentionJsd = attentionJsd;
    }

    /**
     * Measures the heads of one layer that {@code heads} accepts (by their index in the layer); a
     * {@link LayerCapture} is read first ({@code reconstructionError} included). Empty when no head is
     * accepted or no sequence has a visible key.
     *
     * @throws IllegalArgumentException when a capture's arrays do not fit its layout
     */
    public static Optional<LayerObservation> of(LayerData layer, IntPredicate heads, LayerAnalyzer analyzer) {
        return measure(read(layer, heads, analyzer, () -> { }, null), heads, analyzer);
    }

    /**
     * The heads of a layer: a capture read by the core, with its reconstruction begun for the measurement of
     * the heads that {@code heads} accepts with {@code analyzer} ({@link #measure}), or the given input;
     * {@code nonConverged} runs once for each head whose qkSpectralNorm fails; {@code state} (or null) is the
     * monitor's ({@link RebuildState}).
     */
    static LayerRebuild.Rebuilt read(LayerData layer, IntPredicate heads, LayerAnalyzer analyzer, Runnable nonConverged,
                                     RebuildState state) {
        return layer instanceof LayerCapture c
                ? LayerRebuild.of(c, nonConverged, state, analyzer == LayerAnalysis.STANDARD ? heads : h -> false)
                : new LayerRebuild.Rebuilt((LayerInput) layer, null);
    }

    /**
     * Measures the heads that {@code heads} accepts, with the layer {@link #read} for the same heads and
     * analyzer. The standard analysis hands each head's attention to the reconstruction, which is finished
     * after the heads; another analyzer's heads were attended by the reconstruction itself.
     */
    static Optional<LayerObservation> measure(LayerRebuild.Rebuilt layer, IntPredicate heads, LayerAnalyzer analyzer) {
        LayerInput in = layer.input().select(heads);
        if (in.sequences().isEmpty() || in.heads().isEmpty()) {
            return Optional.empty();
        }
        Reconstruction reconstruction = analyzer == LayerAnalysis.STANDARD ? layer.reconstruction() : null;
        int nHeads = in.heads().size();
        int count = in.sequences().size();
        List<List<HeadMetrics>> perHead = new ArrayList<>();
        for (int h = 0; h < nHeads; h++) {
            perHead.add(new ArrayList<>());
        }
        double[][] corr = new double[nHeads][nHeads];
        double[][] jsd = new double[nHeads][nHeads];
        for (int s = 0; s < count; s++) {
            List<HeadInput> sequence = in.sequences().get(s);
            int index = s;
            LayerMetrics metrics = reconstruction == null ? analyzer.analyze(sequence)
                    : LayerAnalysis.compute(sequence, (pass, h) -> reconstruction.attended(index, in.heads().get(h), pass,
                            sequence.get(h).valueRows()));
            for (int h = 0; h < nHeads; h++) {
                perHead.get(h).add(withPartnerNamed(metrics.heads().get(h), in.heads()));
                for (int g = 0; g < nHeads; g++) {
                    corr[h][g] += metrics.energyCorrelation(h, g);
                    jsd[h][g] += metrics.attentionJsd(h, g);
                }
            }
        }
        for (int h = 0; h < nHeads; h++) {
            for (int g = 0; g < nHeads; g++) {
                corr[h][g] *= 1.0 / count;
                jsd[h][g] *= 1.0 / count;
            }
        }
        double error = layer.reconstructionError();
        List<HeadRecord> records = new ArrayList<>();
        for (int h = 0; h < nHeads; h++) {
            HeadMetrics m = HeadMetrics.aggregate(perHead.get(h)).toBuilder()
                    .set(HeadField.RECONSTRUCTION_ERROR, error)
                    .build();
            double[] n = new double[count];
            double[] d = new double[count];
            boolean nonFinite = false;
            for (int s = 0; s < count; s++) {
                HeadInput head = in.sequences().get(s).get(h);
                n[s] = head.n();
                d[s] = head.d();
                nonFinite |= nonFinite(head);
            }
            records.add(new HeadRecord(in.layer(), in.heads().get(h), (int) HeadMetrics.mode(n, count),
                    (int) HeadMetrics.mode(d, count), in.sequences().get(0).get(h).visibility(), m,
                    in.qkSpectralNorms().get(h), nonFinite));
        }
        return Optional.of(new LayerObservation(in.withReconstructionError(error), records, corr, jsd));
    }

    /**
     * The analyzer names a head's redundancy partner by its position among the observed heads; records
     * name heads by their index in the layer.
     */
    private static HeadMetrics withPartnerNamed(HeadMetrics m, List<Integer> heads) {
        double position = m.redundancyPartner();
        if (Double.isNaN(position) || heads.get((int) position) == position) {
            return m;
        }
        return m.toBuilder().set(HeadField.REDUNDANCY_PARTNER, heads.get((int) position)).build();
    }

    /** Whether Q, K or V holds NaN or infinity: read in the Java form the metrics already read. */
    private static boolean nonFinite(HeadInput in) {
        return !HeadPass.allFinite(in.queryRows()) || !HeadPass.allFinite(in.keyRows())
                || (in.valueRows() != null && !HeadPass.allFinite(in.valueRows()));
    }

    /** The measured heads' inputs (the observed heads only), per sequence: for plots. */
    public LayerInput input() {
        return input;
    }

    /** One record per observed head, in the order of {@link LayerInput#heads()}. */
    public List<HeadRecord> records() {
        return records;
    }

    /** The energy-correlation matrix of the observed heads, averaged over sequences (a copy). */
    public double[][] energyCorrelation() {
        return copy(energyCorrelation);
    }

    /** The attention Jensen-Shannon divergence matrix of the observed heads in nats, averaged over sequences (a copy). */
    public double[][] attentionJsd() {
        return copy(attentionJsd);
    }

    private static double[][] copy(double[][] m) {
        double[][] out = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i].clone();
        }
        return out;
    }
}
