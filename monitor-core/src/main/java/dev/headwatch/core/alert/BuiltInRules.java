package dev.headwatch.core.alert;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Visibility;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.headwatch.core.alert.Rule.Check.clear;
import static dev.headwatch.core.alert.Rule.Check.holds;
import static dev.headwatch.core.alert.Rule.Check.unknown;

/** The rules of the METRICS.md alert table, with the thresholds of an {@link AlertConfig}. */
final class BuiltInRules {

    /**
     * Fields defined for every finite input (METRICS.md): NaN in one of them means the input or the
     * computation went non-finite. Fields that are NaN by definition in some cases (entropy for n = 1,
     * participation for E = 0, redundancy for one head, ...) are not listed.
     */
    private static final HeadField[] ALWAYS_DEFINED = {
        HeadField.MAX_LOGIT, HeadField.ZERO_SUM_RESIDUAL, HeadField.ENERGY_RMS, HeadField.EFFECTIVE_RANK,
        HeadField.STABLE_RANK, HeadField.TOP_ENERGY, HeadField.SINK_MAX, HeadField.FIRST_KEY_MASS,
    };

    private BuiltInRules() {
    }

    /** The enabled built-in rules, in {@link Alert} order. */
    static List<Rule> of(AlertConfig c) {
        List<Rule> rules = new ArrayList<>();
        for (Alert a : c.enabled()) {
            rules.add(rule(a, check(a, c)));
        }
        return rules;
    }

    private interface CheckFn {
        Rule.Check check(HeadRecord r, RuleState s, Rule.LayerContext layer);
    }

    private static Rule rule(Alert alert, CheckFn fn) {
        return new Rule() {
            @Override public String name() { return alert.name(); }
            @Override public Severity severity() { return alert.severity(); }
            @Override public String advice() { return alert.advice(); }
            @Override public Check check(HeadRecord r, RuleState s, LayerContext layer) {
                return fn.check(r, s, layer);
            }
        };
    }

    private static CheckFn check(Alert a, AlertConfig c) {
        return switch (a) {
            case ENTROPY_COLLAPSE -> (r, s, l) -> entropyCollapse(r.metrics(), s, c);
            case LOGIT_GROWTH -> (r, s, l) -> logitGrowth(r, s, c);
            case DEAD_HEAD -> (r, s, l) -> deadHead(r.metrics(), c);
            case RANK_COLLAPSE -> (r, s, l) -> rankCollapse(r, c);
            case KEY_COHERENCE -> (r, s, l) -> keyCoherence(r, s, l, c);
            case SINK_SHIFT -> (r, s, l) -> sinkShift(r.metrics(), s, c);
            case REDUNDANT_HEAD -> (r, s, l) -> redundantHead(r.metrics(), c);
            case NON_FINITE -> (r, s, l) -> nonFinite(r);
            case INVARIANT_VIOLATION -> (r, s, l) -> invariantViolation(r.metrics(), c);
        };
    }

    static Rule.Check entropyCollapse(HeadMetrics m, RuleState s, AlertConfig c) {
        double e = m.entropy();
        if (Double.isNaN(e)) {
            return unknown("entropy undefined");
        }
        RunningMedian baseline = s.median(c.medianWindow());
        double floor = c.entropyFloor();
        double relative = Double.NaN;
        if (!Double.isNaN(c.entropyDrop()) && baseline.size() >= c.medianWarmup()) {
            relative = (1 - c.entropyDrop()) * baseline.median();
        }
        if (e < floor) {
            return holds(e, floor, "entropy " + f(e) + " < " + f(floor));
        }
        if (e < relative) {
            return holds(e, relative, "entropy " + f(e) + " fell by more than " + f(c.entropyDrop())
                    + " of its running median " + f(baseline.median()) + " (bound " + f(relative) + ")");
        }
        baseline.add(e);
        return clear(e, Double.isNaN(floor) ? relative : floor, "entropy " + f(e));
    }

    static Rule.Check logitGrowth(HeadRecord r, RuleState s, AlertConfig c) {
        double logit = r.metrics().maxLogit();
        double qk = r.qkSpectralNorm();
        boolean qkKnown = Double.isFinite(qk) && !Double.isNaN(c.qkNormGrowth());
        if (Double.isNaN(logit) && !qkKnown) {
            return unknown("maxLogit undefined");
        }
        if (logit > c.maxLogit()) {
            return holds(logit, c.maxLogit(), "maxLogit " + f(logit) + " > " + f(c.maxLogit()));
        }
        if (qkKnown) {
            RunningMedian baseline = s.median(c.medianWindow());
            if (baseline.size() >= c.medianWarmup() && qk > c.qkNormGrowth() * baseline.median()) {
                double bound = c.qkNormGrowth() * baseline.median();
                return holds(qk, bound, "qkSpectralNorm " + f(qk) + " > " + f(c.qkNormGrowth())
                        + " x its running median " + f(baseline.median()));
            }
            baseline.add(qk);
        }
        return clear(logit, c.maxLogit(), "maxLogit " + f(logit)
                + (qkKnown ? ", qkSpectralNorm " + f(qk) : ""));
    }

    static Rule.Check deadHead(HeadMetrics m, AlertConfig c) {
        double e = m.entropy();
        double rms = m.energyRms();
        if (Double.isNaN(e) || Double.isNaN(rms)) {
            return unknown("entropy or energyRms undefined");
        }
        String what = "entropy " + f(e) + ", energyRms " + f(rms);
        if (e > c.deadEntropy() && rms < c.deadEnergyRms()) {
            return holds(rms, c.deadEnergyRms(), "entropy " + f(e) + " > " + f(c.deadEntropy())
                    + " and energyRms " + f(rms) + " < " + f(c.deadEnergyRms()));
        }
        return clear(rms, c.deadEnergyRms(), what);
    }

    static Rule.Check rankCollapse(HeadRecord r, AlertConfig c) {
        HeadMetrics m = r.metrics();
        double rank = m.effectiveRank();
        if (Double.isNaN(rank) || Double.isNaN(m.energyRms())) {
            return unknown("effectiveRank undefined");
        }
        if (rankCapacity(r) < 2) {
            // The energy field of this shape cannot reach rank 2: nothing to collapse.
            return unknown("energy field rank is at most " + rankCapacity(r));
        }
        if (m.energyRms() < c.deadEnergyRms()) {
            // A near-zero field has no meaningful spectrum; DEAD_HEAD reports it.
            return unknown("energy field near zero");
        }
        if (rank < c.minEffectiveRank()) {
            return holds(rank, c.minEffectiveRank(), "effectiveRank " + f(rank) + " < " + f(c.minEffectiveRank()));
        }
        return clear(rank, c.minEffectiveRank(), "effectiveRank " + f(rank));
    }

    /** The largest rank E can have: min(d, n - 1) (FULL), min(d, len - 1) (PADDED), n - 1 (CAUSAL). */
    private static int rankCapacity(HeadRecord r) {
        Visibility v = r.mask();
        return switch (v.kind()) {
            case FULL -> Math.min(r.d(), r.n() - 1);
            case PADDED -> Math.min(r.d(), v.length() - 1);
            case CAUSAL -> r.n() - 1;
        };
    }

    static Rule.Check keyCoherence(HeadRecord r, RuleState s, Rule.LayerContext layer, AlertConfig c) {
        HeadMetrics m = r.metrics();
        double kc = m.keyCoherenceNoFirst();
        double median = layer.keyCoherenceNoFirstMedian();
        // Participation of one short sampled sequence is noisy; the key geometry it measures changes
        // slowly, so the rule reads the head's median over its last medianWarmup observations.
        double p = Double.NaN;
        if (!Double.isNaN(m.participation())) {
            RunningMedian recent = s.median(c.medianWarmup());
            recent.add(m.participation());
            p = recent.size() >= c.medianWarmup() ? recent.median() : Double.NaN;
        }
        boolean kcKnown = !Double.isNaN(c.keyCoherenceFactor()) && Double.isFinite(kc) && median > 0;
        boolean pKnown = !Double.isNaN(c.minParticipation()) && !Double.isNaN(p);
        if (!kcKnown && !pKnown) {
            return unknown("keyCoherenceNoFirst and participation undefined");
        }
        if (kcKnown && kc > c.keyCoherenceFactor() * median) {
            double bound = c.keyCoherenceFactor() * median;
            return holds(kc, bound, "keyCoherenceNoFirst " + f(kc) + " > " + f(c.keyCoherenceFactor())
                    + " x the layer median " + f(median));
        }
        // Energy on a key that also draws the attention mass (twice its uniform share, or a sink) is a
        // sink, which SINK_SHIFT reports; low participation alone would flag every sink head too.
        boolean sink = m.sinkMax() > Math.min(c.minSinkMax(), 2.0 / keys(r));
        if (pKnown && p < c.minParticipation() && !sink) {
            return holds(p, c.minParticipation(), "participation " + f(p) + " (median of the last "
                    + c.medianWarmup() + " observations) < " + f(c.minParticipation()));
        }
        return kcKnown
                ? clear(kc, c.keyCoherenceFactor() * median, "keyCoherenceNoFirst " + f(kc) + ", participation " + f(p))
                : clear(p, c.minParticipation(), "participation " + f(p));
    }

    /** The number of visible key positions m: n, or the padded length. */
    private static int keys(HeadRecord r) {
        return r.mask().kind() == Visibility.Kind.PADDED ? r.mask().length() : r.n();
    }

    static Rule.Check sinkShift(HeadMetrics m, RuleState s, AlertConfig c) {
        double max = m.sinkMax();
        double pos = m.sinkPosition();
        if (Double.isNaN(max) || Double.isNaN(pos)) {
            return unknown("sinkMax undefined");
        }
        double t = c.minSinkMax();
        if (!s.baselineSeen) {
            s.baselineSeen = true;
            s.baselineSink = max > t ? pos : Double.NaN;
        }
        String first = Double.isNaN(s.baselineSink) ? "no sink at the first observation"
                : "sink at position " + (long) s.baselineSink + " at the first observation";
        if (max > t && pos != s.baselineSink) {
            return Rule.Check.holdsAt(pos, max, t, "sinkMax " + f(max) + " > " + f(t) + " at position " + (long) pos + " (" + first + ")");
        }
        return clear(max, t, "sinkMax " + f(max) + " at position " + (long) pos);
    }

    static Rule.Check redundantHead(HeadMetrics m, AlertConfig c) {
        double red = m.maxRedundancy();
        if (Double.isNaN(red)) {
            return unknown("maxRedundancy undefined");
        }
        String partner = Double.isNaN(m.redundancyPartner()) ? "" : " with head " + (long) m.redundancyPartner();
        if (red > c.maxRedundancy()) {
            return holds(red, c.maxRedundancy(), "energy correlation " + f(red) + partner + " > " + f(c.maxRedundancy()));
        }
        return clear(red, c.maxRedundancy(), "maxRedundancy " + f(red) + partner);
    }

    static Rule.Check nonFinite(HeadRecord r) {
        if (r.nonFiniteInput()) {
            return holds(Double.NaN, Double.NaN, "Q, K or V holds NaN or infinity");
        }
        HeadMetrics m = r.metrics();
        for (HeadField field : HeadField.values()) {
            double v = m.get(field);
            if (Double.isInfinite(v)) {
                return holds(v, Double.NaN, field.fieldName() + " is " + v);
            }
        }
        for (HeadField field : ALWAYS_DEFINED) {
            if (Double.isNaN(m.get(field))) {
                return holds(Double.NaN, Double.NaN, field.fieldName() + " is NaN");
            }
        }
        if (Double.isInfinite(r.qkSpectralNorm())) {
            return holds(r.qkSpectralNorm(), Double.NaN, "qkSpectralNorm is " + r.qkSpectralNorm());
        }
        return clear(Double.NaN, Double.NaN, "every metric finite");
    }

    static Rule.Check invariantViolation(HeadMetrics m, AlertConfig c) {
        double rec = m.reconstructionError();
        double zs = m.zeroSumResidual();
        boolean recKnown = !Double.isNaN(rec) && !Double.isNaN(c.maxReconstructionError());
        boolean zsKnown = !Double.isNaN(zs) && !Double.isNaN(c.maxZeroSumResidual());
        if (!recKnown && !zsKnown) {
            return unknown("reconstructionError and zeroSumResidual undefined");
        }
        if (recKnown && rec > c.maxReconstructionError()) {
            return holds(rec, c.maxReconstructionError(), "reconstructionError " + f(rec) + " > "
                    + f(c.maxReconstructionError()));
        }
        if (zsKnown && zs > c.maxZeroSumResidual()) {
            return holds(zs, c.maxZeroSumResidual(), "zeroSumResidual " + f(zs) + " > " + f(c.maxZeroSumResidual()));
        }
        return recKnown
                ? clear(rec, c.maxReconstructionError(), "reconstructionError " + f(rec) + (zsKnown ? ", zeroSumResidual " + f(zs) : ""))
                : clear(zs, c.maxZeroSumResidual(), "zeroSumResidual " + f(zs));
    }

    /** Three significant digits, locale-independent. */
    static String f(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }
}
