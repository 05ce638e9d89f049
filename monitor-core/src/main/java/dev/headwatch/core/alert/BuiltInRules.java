package dev.headwatch.core.alert;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Visibility;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static dev.headwatch.core.alert.Rule.Check.between;
import static dev.headwatch.core.alert.Rule.Check.clear;
import static dev.headwatch.core.alert.Rule.Check.holds;
import static dev.headwatch.core.alert.Rule.Check.unknown;

/**
 * The rules of the METRICS.md alert table, with the thresholds and bands of an {@link AlertConfig}.
 * Each check returns HOLDS when the fire condition holds, CLEAR when the clear condition (the band's
 * healthy side) holds, BETWEEN inside the band and UNKNOWN when its inputs are undefined.
 */
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

    /** The rules that judge a head's shape, and so wait for the warm-up. */
    static final Set<Alert> AFTER_WARMUP = EnumSet.of(Alert.ENTROPY_COLLAPSE, Alert.DEAD_HEAD,
            Alert.RANK_COLLAPSE, Alert.KEY_COHERENCE, Alert.SINK_SHIFT, Alert.REDUNDANT_HEAD);

    /** Observations in the median of participation that KEY_COHERENCE compares. */
    static final int PARTICIPATION_WINDOW = 5;

    private BuiltInRules() {
    }

    /** The enabled per-head built-in rules, in {@link Alert} order; REDUNDANT_HEAD, a rule on pairs, is the engine's. */
    static List<Rule> of(AlertConfig c) {
        List<Rule> rules = new ArrayList<>();
        for (Alert a : c.enabled()) {
            if (a != Alert.REDUNDANT_HEAD) {
                rules.add(rule(a, check(a, c)));
            }
        }
        return rules;
    }

    private interface CheckFn {
        Rule.Check check(HeadRecord r, RuleState s, Rule.LayerContext layer);
    }

    private static Rule rule(Alert alert, CheckFn fn) {
        boolean warmsUp = AFTER_WARMUP.contains(alert);
        return new Rule() {
            @Override public String name() { return alert.name(); }
            @Override public Severity severity() { return alert.severity(); }
            @Override public String advice() { return alert.advice(); }
            @Override public boolean warmsUp() { return warmsUp; }
            @Override public Check check(HeadRecord r, RuleState s, LayerContext layer) {
                return fn.check(r, s, layer);
            }
        };
    }

    private static CheckFn check(Alert a, AlertConfig c) {
        return switch (a) {
            case ENTROPY_COLLAPSE -> (r, s, l) -> entropyCollapse(r.metrics(), s, l, c);
            case LOGIT_GROWTH -> (r, s, l) -> logitGrowth(r, s, c);
            case DEAD_HEAD -> (r, s, l) -> deadHead(r.metrics(), c);
            case RANK_COLLAPSE -> (r, s, l) -> rankCollapse(r, c);
            case KEY_COHERENCE -> (r, s, l) -> keyCoherence(r, s, l, c);
            case SINK_SHIFT -> (r, s, l) -> sinkShift(r.metrics(), s, c);
            case REDUNDANT_HEAD -> throw new IllegalArgumentException("REDUNDANT_HEAD is judged on pairs of heads");
            case NON_FINITE -> (r, s, l) -> nonFinite(r);
            case INVARIANT_VIOLATION -> (r, s, l) -> invariantViolation(r.metrics(), c);
        };
    }

    /**
     * One part of a rule: HOLDS when {@code fires}, CLEAR when {@code clears}, else BETWEEN; UNKNOWN when the
     * value or the threshold is NaN.
     */
    private static Rule.Check part(double value, double threshold, boolean fires, boolean clears, String holdsWhat,
                                   String what) {
        if (Double.isNaN(value) || Double.isNaN(threshold)) {
            return unknown(what);
        }
        return fires ? holds(value, threshold, holdsWhat) : clears ? clear(value, threshold, what) : between(value, threshold, what);
    }

    /**
     * Two parts joined by "or" in the fire condition and "and" in the clear condition: HOLDS when a part
     * holds (the first one's report), CLEAR when every defined part clears, UNKNOWN when none is defined.
     */
    private static Rule.Check either(Rule.Check a, Rule.Check b) {
        if (a.verdict() == Rule.Verdict.HOLDS) {
            return a;
        }
        if (b.verdict() == Rule.Verdict.HOLDS) {
            return b;
        }
        if (a.verdict() == Rule.Verdict.UNKNOWN) {
            return b;
        }
        if (b.verdict() == Rule.Verdict.UNKNOWN) {
            return a;
        }
        if (b.verdict() == Rule.Verdict.CLEAR) {
            return a.verdict() == Rule.Verdict.CLEAR ? withWhat(a, a.what() + ", " + b.what()) : a;
        }
        return b;
    }

    private static Rule.Check withWhat(Rule.Check c, String what) {
        return new Rule.Check(c.verdict(), c.value(), c.threshold(), what, c.subject(), c.atOnce());
    }

    /**
     * Entropy fell below the floor, or by more than the drop, from a running median at or above the floor's
     * clear bound, while the loss was not falling fast: a head whose entropy has long been that low looks at
     * one key by design, and one that sharpens while the loss falls is learning to (the
     * alert benchmark's marked-token model: all four heads of its second layer go from entropy 0.98 to 0.1
     * in 15 steps while its loss falls from 20 to 5). Both are facts about the head, not trouble.
     */
    static Rule.Check entropyCollapse(HeadMetrics m, RuleState s, Rule.LayerContext layer, AlertConfig c) {
        double e = m.entropy();
        if (Double.isNaN(e)) {
            return unknown("entropy undefined");
        }
        RunningMedian baseline = s.median(c.medianWindow());
        double median = baseline.size() >= c.medianWarmup() ? baseline.median() : Double.NaN;
        // Collapse is a fall from spread attention: a head whose running median is already below the
        // floor's clear bound has settled on one key, and halving an entropy of 1e-4 means nothing.
        boolean settled = median < c.entropyFloorClear();
        double floor = Double.isNaN(median) || settled ? Double.NaN : c.entropyFloor();
        double relative = settled ? Double.NaN : (1 - c.entropyDrop()) * median;
        String what = "entropy " + f(e);
        Rule.Check result = either(
                part(e, floor, e < floor, e >= c.entropyFloorClear(), what + " < " + f(floor)
                        + " (running median " + f(median) + ")", what),
                part(e, relative, e < relative, e >= c.entropyFractionClear() * median,
                        what + " fell by more than " + f(c.entropyDrop()) + " of its running median " + f(median)
                                + " (bound " + f(relative) + ")", what));
        if (result.verdict() == Rule.Verdict.HOLDS && layer.lossFall() >= c.learningLossFall()) {
            result = Rule.Check.between(e, result.threshold(), result.what() + " while the loss is "
                    + f(100 * layer.lossFall()) + "% below its running median: learning");
        }
        if (result.verdict() != Rule.Verdict.HOLDS && !s.firing) {
            baseline.add(e);
        }
        return result;
    }

    static Rule.Check logitGrowth(HeadRecord r, RuleState s, AlertConfig c) {
        double logit = r.metrics().maxLogit();
        double qk = Double.isFinite(r.qkSpectralNorm()) ? r.qkSpectralNorm() : Double.NaN;
        RunningMedian baseline = s.median(c.medianWindow());
        double median = baseline.size() >= c.medianWarmup() ? baseline.median() : Double.NaN;
        double bound = c.qkNormGrowth() * median;
        Rule.Check qkPart = part(qk, bound, qk > bound, qk <= c.qkNormGrowthClear() * median,
                "qkSpectralNorm " + f(qk) + " > " + f(c.qkNormGrowth()) + " x its running median " + f(median),
                "qkSpectralNorm " + f(qk));
        // The weights grow fast while training starts: the baseline begins after the warm-up, so a head is
        // compared with its trained self, not with its initialisation.
        if (!Double.isNaN(qk) && s.seen++ >= c.medianWarmup() && qkPart.verdict() != Rule.Verdict.HOLDS && !s.firing) {
            baseline.add(qk);
        }
        Rule.Check logitPart = logit > c.maxLogitAtOnce()
                ? Rule.Check.holdsAtOnce(logit, c.maxLogit(), "maxLogit " + f(logit) + " > " + f(c.maxLogitAtOnce()))
                : part(logit, c.maxLogit(), logit > c.maxLogit(), logit <= c.maxLogitClear(),
                        "maxLogit " + f(logit) + " > " + f(c.maxLogit()), "maxLogit " + f(logit));
        return either(logitPart, qkPart);
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
        if (e <= c.deadEntropyClear() || rms >= c.deadEnergyRmsClear()) {
            return clear(rms, c.deadEnergyRms(), what);
        }
        return between(rms, c.deadEnergyRms(), what);
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
        double min = c.minEffectiveRank();
        return part(rank, min, rank < min, rank >= c.minEffectiveRankClear(),
                "effectiveRank " + f(rank) + " < " + f(min), "effectiveRank " + f(rank));
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
        double kc = Double.isFinite(m.keyCoherenceNoFirst()) ? m.keyCoherenceNoFirst() : Double.NaN;
        double median = layer.keyCoherenceNoFirstMedian() > 0 ? layer.keyCoherenceNoFirstMedian() : Double.NaN;
        // Participation of one short sampled sequence is noisy; the key geometry it measures changes
        // slowly, so the rule reads the head's median over its last few observations.
        double p = Double.NaN;
        if (!Double.isNaN(m.participation())) {
            RunningMedian recent = s.median(PARTICIPATION_WINDOW);
            recent.add(m.participation());
            p = recent.size() >= PARTICIPATION_WINDOW ? recent.median() : Double.NaN;
        }
        double bound = c.keyCoherenceFactor() * median;
        Rule.Check kcPart = part(kc, bound, kc > bound, kc <= c.keyCoherenceFactorClear() * median,
                "keyCoherenceNoFirst " + f(kc) + " > " + f(c.keyCoherenceFactor()) + " x the layer median " + f(median),
                "keyCoherenceNoFirst " + f(kc));
        // Energy on a key that also draws the attention mass (twice its uniform share, or a sink) is a
        // sink, which SINK_SHIFT reports; low participation alone would flag every sink head too.
        boolean sink = m.sinkMax() > Math.min(c.minSinkMax(), 2.0 / keys(r));
        double min = c.minParticipation();
        Rule.Check pPart = part(p, min, p < min && !sink, p >= c.minParticipationClear() || sink,
                "participation " + f(p) + " (median of the last " + PARTICIPATION_WINDOW + " observations) < " + f(min),
                "participation " + f(p));
        Rule.Check result = either(kcPart, pPart);
        return result.verdict() == Rule.Verdict.UNKNOWN
                ? unknown("keyCoherenceNoFirst and participation undefined") : result;
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
        String what = "sinkMax " + f(max) + " at position " + (long) pos;
        if (max > t && pos != s.baselineSink) {
            return Rule.Check.holdsAt(pos, max, t, "sinkMax " + f(max) + " > " + f(t) + " at position " + (long) pos + " (" + first + ")");
        }
        // The strongest key is the first observation's sink, or no key draws more than the clear bound.
        if (max <= c.minSinkMaxClear() || pos == s.baselineSink) {
            return clear(max, t, what);
        }
        return between(max, t, what);
    }

    /**
     * REDUNDANT_HEAD on the pair of heads {@code a} and {@code b} of one layer. Their energy correlation is
     * known when either names the other as its {@code redundancyPartner}; when neither does, it is at most
     * the smaller of their {@code maxRedundancy}, which can still tell that the pair cleared.
     */
    static Rule.Check redundantPair(HeadRecord a, HeadRecord b, AlertConfig c) {
        double ab = a.metrics().redundancyPartner() == b.head() ? a.metrics().maxRedundancy() : Double.NaN;
        double ba = b.metrics().redundancyPartner() == a.head() ? b.metrics().maxRedundancy() : Double.NaN;
        double corr = Double.isNaN(ab) ? ba : Double.isNaN(ba) ? ab : Math.max(ab, ba);
        String pair = " of heads " + a.head() + " and " + b.head();
        if (!Double.isNaN(corr)) {
            String what = "energy correlation " + f(corr) + pair;
            return part(corr, c.maxRedundancy(), corr > c.maxRedundancy(), corr <= c.maxRedundancyClear(),
                    what + " > " + f(c.maxRedundancy()), what);
        }
        double bound = Math.min(a.metrics().maxRedundancy(), b.metrics().maxRedundancy());
        if (bound <= c.maxRedundancyClear()) {
            return clear(bound, c.maxRedundancy(), "energy correlation" + pair + " at most " + f(bound));
        }
        return unknown("energy correlation" + pair + " not measured");
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
        Rule.Check result = either(
                part(rec, c.maxReconstructionError(), rec > c.maxReconstructionError(),
                        rec <= c.maxReconstructionErrorClear(),
                        "reconstructionError " + f(rec) + " > " + f(c.maxReconstructionError()),
                        "reconstructionError " + f(rec)),
                part(zs, c.maxZeroSumResidual(), zs > c.maxZeroSumResidual(), zs <= c.maxZeroSumResidualClear(),
                        "zeroSumResidual " + f(zs) + " > " + f(c.maxZeroSumResidual()), "zeroSumResidual " + f(zs)));
        return result.verdict() == Rule.Verdict.UNKNOWN
                ? unknown("reconstructionError and zeroSumResidual undefined") : result;
    }

    /** Three significant digits, locale-independent. */
    static String f(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }
}
