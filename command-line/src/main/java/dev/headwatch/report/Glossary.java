package dev.headwatch.report;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.WeightField;
import dev.headwatch.core.alert.AlertConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the report says about each metric it shows: a one-line definition (METRICS.md) and the healthy
 * range. The ranges and the threshold lines of the charts are read from {@link AlertConfig#defaults()},
 * so they follow the rules instead of restating their numbers.
 */
final class Glossary {

    /**
     * An alert threshold drawn on a metric's trend chart.
     *
     * @param label          the legend text
     * @param value          the threshold, or the factor when {@code perLayerMedian}
     * @param perLayerMedian whether the threshold is {@code value} times the layer's median at each checkpoint
     */
    record Line(String label, double value, boolean perLayerMedian) {
    }

    /**
     * One metric.
     *
     * @param definition what it is, in one line
     * @param healthy    its healthy range and the rule that judges it
     * @param alertInput whether an alert rule reads it
     * @param lines      thresholds to draw on its charts
     */
    record Entry(String definition, String healthy, boolean alertInput, List<Line> lines) {
    }

    private static final Map<String, Entry> ENTRIES = entries(AlertConfig.defaults());

    private Glossary() {
    }

    /** The entry of a field of {@link dev.headwatch.checkpoint.CheckpointAnalysis#fieldNames()}. */
    static Entry of(String field) {
        Entry e = ENTRIES.get(field);
        if (e == null) {
            throw new IllegalArgumentException("no glossary entry for field '" + field + "'");
        }
        return e;
    }

    private static Map<String, Entry> entries(AlertConfig c) {
        Map<String, Entry> m = new LinkedHashMap<>();
        put(m, WeightField.QK_SPECTRAL_NORM, "largest singular value of M = tau Wq^T Wk; bounds every logit by"
                + " qkSpectralNorm |x_i| |x_j|", "steady; LOGIT_GROWTH when above " + n(c.qkNormGrowth())
                + " x its own running median", true);
        put(m, WeightField.QK_STABLE_RANK, "stable rank sum sigma^2 / sigma_1^2 of M, in [1, d]",
                "informative, no rule", false);
        put(m, HeadField.MAX_LOGIT, "largest visible logit tau q_i . k_j; runaway growth precedes entropy collapse",
                "<= " + n(c.maxLogit()) + " (LOGIT_GROWTH above)", true,
                new Line("LOGIT_GROWTH " + n(c.maxLogit()), c.maxLogit(), false));
        put(m, HeadField.ZERO_SUM_RESIDUAL, "worst row's |sum_j E_ij| / sum_j |S_ij|; float precision unless"
                + " centring lost the energy field", "<= " + n(c.maxZeroSumResidual())
                + " (INVARIANT_VIOLATION above)", true);
        put(m, HeadField.RECONSTRUCTION_ERROR, "relative error of the layer output rebuilt from the extracted"
                + " Q, K, V; about 1e-6 when the extraction is exact", "<= " + n(c.maxReconstructionError())
                + " (INVARIANT_VIOLATION above)", true);
        put(m, HeadField.ENERGY_RMS, "root mean square of the energy field E (row-centred logits)",
                ">= " + n(c.deadEnergyRms()) + "; below it with entropy > " + n(c.deadEntropy())
                        + " the head is dead (DEAD_HEAD)", true,
                new Line("DEAD_HEAD " + n(c.deadEnergyRms()), c.deadEnergyRms(), false));
        put(m, HeadField.EFFECTIVE_RANK, "exp of the entropy of E's normalised singular values (Roy-Vetterli)",
                ">= " + n(c.minEffectiveRank()) + " (RANK_COLLAPSE below)", true,
                new Line("RANK_COLLAPSE " + n(c.minEffectiveRank()), c.minEffectiveRank(), false));
        put(m, HeadField.STABLE_RANK, "sum sigma^2 / sigma_1^2 of E; 1 when E is rank one", "informative, no rule", false);
        put(m, HeadField.TOP_ENERGY, "share of E's energy in its top singular direction, in [0, 1]",
                "informative, no rule; near 1 is rank one", false);
        put(m, HeadField.NUMERICAL_RANK, "count of E's singular values above roundoff", "<= rankBound", false);
        put(m, HeadField.RANK_BOUND, "the rank E cannot exceed: min(d, n-1) full, min(d, len-1) padded; none"
                + " for causal", "a structural fact", false);
        put(m, HeadField.PARTICIPATION, "how evenly E's energy spreads over key positions, in (0, 1]: 1 even,"
                + " 1/m one key", ">= " + n(c.minParticipation()) + " (KEY_COHERENCE below, unless a sink"
                + " explains it)", true, new Line("KEY_COHERENCE " + n(c.minParticipation()), c.minParticipation(), false));
        put(m, HeadField.MAX_KEY_SHARE, "largest share of E's energy held by one key position",
                "informative, no rule; 1/m when even", false);
        put(m, HeadField.KEY_COHERENCE, "(m/r) x the largest key leverage, in [1, m/r]: near 1 no key position"
                + " is special", "informative, no rule (see keyCoherenceNoFirst)", false);
        put(m, HeadField.KEY_COHERENCE_NO_FIRST, "keyCoherence without position 0 (often an attention sink)",
                "<= " + n(c.keyCoherenceFactor()) + " x the layer's median (KEY_COHERENCE above)", true,
                new Line("KEY_COHERENCE " + n(c.keyCoherenceFactor()) + " x layer median", c.keyCoherenceFactor(), true));
        put(m, HeadField.ENTROPY, "mean normalised attention entropy per row, in [0, 1]: 0 one key, 1 uniform",
                "not falling below " + n(c.entropyFloor()) + " or " + n(1 - c.entropyDrop())
                        + " x its running median while the loss is flat or rising (ENTROPY_COLLAPSE); above "
                        + n(c.deadEntropy())
                        + " with energyRms < " + n(c.deadEnergyRms()) + " is DEAD_HEAD", true,
                new Line("ENTROPY_COLLAPSE " + n(c.entropyFloor()), c.entropyFloor(), false),
                new Line("DEAD_HEAD " + n(c.deadEntropy()), c.deadEntropy(), false));
        put(m, HeadField.SINK_MAX, "largest mean attention a key seen by at least half the rows receives",
                "<= " + n(c.minSinkMax()) + " at a position that was no sink at first (SINK_SHIFT above)", true,
                new Line("SINK_SHIFT " + n(c.minSinkMax()), c.minSinkMax(), false));
        put(m, HeadField.SINK_POSITION, "the key position of sinkMax", "a structural fact", false);
        put(m, HeadField.FIRST_KEY_MASS, "mean attention on key 0", "informative, no rule", false);
        put(m, HeadField.LINEAR_GAP, "relative distance of the head's output from the large-prompt linear"
                + " predictor (needs V; not causal)", "informative, no rule; 0 is linear", false);
        put(m, HeadField.MAX_REDUNDANCY, "largest cosine between this head's energy field and another head's"
                + " of the layer", "<= " + n(c.maxRedundancy()) + " (REDUNDANT_HEAD above)", true,
                new Line("REDUNDANT_HEAD " + n(c.maxRedundancy()), c.maxRedundancy(), false));
        put(m, HeadField.REDUNDANCY_PARTNER, "the head attaining maxRedundancy", "a structural fact", false);
        return m;
    }

    private static void put(Map<String, Entry> m, Enum<?> field, String definition, String healthy, boolean alertInput,
                            Line... lines) {
        String name = field instanceof HeadField h ? h.fieldName() : ((WeightField) field).fieldName();
        m.put(name, new Entry(definition, healthy, alertInput, List.of(lines)));
    }

    private static String n(double v) {
        return Num.format(v);
    }
}
