package dev.headwatch.core.alert;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which rules run and their thresholds; immutable, built with {@link #builder()}. The defaults are the
 * METRICS.md alert table. In the two-part rules one part can be switched off by passing NaN for its
 * threshold; a whole rule is switched off with {@link Builder#disable}.
 *
 * <p>Every rule has a band (METRICS.md, "clears when"): it fires after its condition held for
 * {@code persist} observations in a row and clears after its clear condition, the same test with the
 * threshold moved toward the healthy side, held for as many; a value inside the band breaks both streaks.
 * A band scales with its threshold (REDUNDANT_HEAD at 0.8 clears at 0.8 x 0.85/0.9) unless its
 * {@code ...Clears} method sets the clear bound outright.
 *
 * <p>A head is judged after a warm-up: during its first {@code medianWarmup} observations only
 * NON_FINITE, INVARIANT_VIOLATION and LOGIT_GROWTH's maxLogit bound can hold (a head at initialisation
 * is not dead, collapsed or redundant). Relative rules (the entropy drop, the {@code qkSpectralNorm}
 * growth) compare against a running median: the median of the head's last {@code medianWindow} finite
 * values of that metric, taken from observations where the rule neither held nor fired (so a lasting
 * collapse keeps firing instead of becoming the new normal), once it holds {@code medianWarmup} values.
 */
public final class AlertConfig {

    private final int persist;
    private final int medianWindow;
    private final int medianWarmup;
    private final double entropyFloor;
    private final double entropyDrop;
    private final double learningLossFall;
    private final double maxLogit;
    private final double maxLogitAtOnce;
    private final double qkNormGrowth;
    private final double deadEntropy;
    private final double deadEnergyRms;
    private final double minEffectiveRank;
    private final double keyCoherenceFactor;
    private final double minParticipation;
    private final double minSinkMax;
    private final double maxRedundancy;
    private final double maxReconstructionError;
    private final double maxZeroSumResidual;
    private final double entropyFloorClear;
    private final double entropyFractionClear;
    private final double maxLogitClear;
    private final double qkNormGrowthClear;
    private final double deadEntropyClear;
    private final double deadEnergyRmsClear;
    private final double minEffectiveRankClear;
    private final double keyCoherenceFactorClear;
    private final double minParticipationClear;
    private final double minSinkMaxClear;
    private final double maxRedundancyClear;
    private final double maxReconstructionErrorClear;
    private final double maxZeroSumResidualClear;
    private final Set<Alert> enabled;
    private final List<UserRule> userRules;

    private AlertConfig(Builder b) {
        persist = b.persist;
        medianWindow = b.medianWindow;
        medianWarmup = b.medianWarmup;
        entropyFloor = b.entropyFloor;
        entropyDrop = b.entropyDrop;
        learningLossFall = b.learningLossFall;
        maxLogit = b.maxLogit;
        maxLogitAtOnce = b.maxLogitAtOnce;
        qkNormGrowth = b.qkNormGrowth;
        deadEntropy = b.deadEntropy;
        deadEnergyRms = b.deadEnergyRms;
        minEffectiveRank = b.minEffectiveRank;
        keyCoherenceFactor = b.keyCoherenceFactor;
        minParticipation = b.minParticipation;
        minSinkMax = b.minSinkMax;
        maxRedundancy = b.maxRedundancy;
        maxReconstructionError = b.maxReconstructionError;
        maxZeroSumResidual = b.maxZeroSumResidual;
        // METRICS.md's bands, as ratios of clear bound to threshold, so that a moved threshold keeps its band.
        entropyFloorClear = band(b.entropyFloorClear, entropyFloor, 0.15 / 0.1, true, 1);
        entropyFractionClear = band(b.entropyFractionClear, 1 - entropyDrop, 0.6 / 0.5, true, 1);
        maxLogitClear = band(b.maxLogitClear, maxLogit, 40.0 / 50, false, Double.MAX_VALUE);
        qkNormGrowthClear = band(b.qkNormGrowthClear, qkNormGrowth, 1.8 / 2, false, Double.MAX_VALUE);
        deadEntropyClear = band(b.deadEntropyClear, deadEntropy, 0.98 / 0.99, false, 1);
        deadEnergyRmsClear = band(b.deadEnergyRmsClear, deadEnergyRms, 0.07 / 0.05, true, Double.MAX_VALUE);
        minEffectiveRankClear = band(b.minEffectiveRankClear, minEffectiveRank, 2 / 1.5, true, Double.MAX_VALUE);
        keyCoherenceFactorClear = band(b.keyCoherenceFactorClear, keyCoherenceFactor, 3.5 / 4, false, Double.MAX_VALUE);
        minParticipationClear = band(b.minParticipationClear, minParticipation, 0.3 / 0.25, true, 1);
        minSinkMaxClear = band(b.minSinkMaxClear, minSinkMax, 0.25 / 0.3, false, 1);
        maxRedundancyClear = band(b.maxRedundancyClear, maxRedundancy, 0.85 / 0.9, false, 1);
        maxReconstructionErrorClear = band(b.maxReconstructionErrorClear, maxReconstructionError, 0.1, false, Double.MAX_VALUE);
        maxZeroSumResidualClear = band(b.maxZeroSumResidualClear, maxZeroSumResidual, 0.1, false, Double.MAX_VALUE);
        enabled = Collections.unmodifiableSet(EnumSet.copyOf(b.enabled));
        userRules = List.copyOf(b.userRules);
    }

    /**
     * A clear bound: the one set with a {@code ...Clears} method, else the threshold times the METRICS.md
     * ratio of clear bound to threshold, kept on the healthy side of the threshold and at most {@code cap}.
     */
    private static double band(double set, double threshold, double ratio, boolean firesBelow, double cap) {
        if (!Double.isNaN(set) || Double.isNaN(threshold)) {
            return set;
        }
        double scaled = threshold * ratio;
        return Math.min(cap, firesBelow ? Math.max(threshold, scaled) : Math.min(threshold, scaled));
    }

    /** The METRICS.md defaults: every built-in rule on, no user rules. */
    public static AlertConfig defaults() {
        return builder().build();
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Consecutive observations a condition must hold to fire, and not hold to resolve (default 3). */
    public int persist() { return persist; }
    /** Values in a running median (default 40). */
    public int medianWindow() { return medianWindow; }
    /**
     * The warm-up (default 30): observations of a head before the rules that judge its shape apply, and
     * values a running median needs before relative rules compare against it.
     */
    public int medianWarmup() { return medianWarmup; }
    /** ENTROPY_COLLAPSE: entropy below this (default 0.1; NaN: part off). */
    public double entropyFloor() { return entropyFloor; }
    /** ENTROPY_COLLAPSE: entropy fell by more than this fraction of its running median (default 0.5; NaN: off). */
    public double entropyDrop() { return entropyDrop; }
    /**
     * ENTROPY_COLLAPSE holds back while the training loss is at least this fraction below its running
     * median (default 0.25; NaN: never): a head that sharpens while the loss falls is learning what to look
     * at, which is not trouble. Its entropy then becomes the head's running median.
     */
    public double learningLossFall() { return learningLossFall; }
    /** LOGIT_GROWTH: maxLogit above this (default 50; NaN: part off). */
    public double maxLogit() { return maxLogit; }
    /**
     * LOGIT_GROWTH fires on the first observation of a maxLogit above this, without waiting for
     * {@code persist} (default 200, four times {@link #maxLogit()}; NaN: never): logits that far out are no
     * noise, and a diverging run blows up within the observations {@code persist} would wait.
     */
    public double maxLogitAtOnce() { return maxLogitAtOnce; }
    /** LOGIT_GROWTH: qkSpectralNorm above this factor times its running median (default 2; NaN: off). */
    public double qkNormGrowth() { return qkNormGrowth; }
    /** DEAD_HEAD: entropy above this (default 0.99). */
    public double deadEntropy() { return deadEntropy; }
    /** DEAD_HEAD: energyRms below this (default 0.05); RANK_COLLAPSE ignores heads this quiet. */
    public double deadEnergyRms() { return deadEnergyRms; }
    /** RANK_COLLAPSE: effectiveRank below this (default 1.5). */
    public double minEffectiveRank() { return minEffectiveRank; }
    /** KEY_COHERENCE: keyCoherenceNoFirst above this factor times the layer's median (default 4; NaN: off). */
    public double keyCoherenceFactor() { return keyCoherenceFactor; }
    /**
     * KEY_COHERENCE: participation below this (default 0.25; NaN: off), unless a sink explains it: a key
     * drawing more than {@code min(minSinkMax, 2/m)} of the attention mass (twice its uniform share). The
     * participation compared is the head's median over its last {@link #participationWindow()} observations,
     * since one short sampled sequence makes it noisy.
     */
    public double minParticipation() { return minParticipation; }
    /** KEY_COHERENCE: observations in the head's median of participation that the rule compares (5). */
    public int participationWindow() { return BuiltInRules.PARTICIPATION_WINDOW; }
    /** SINK_SHIFT: sinkMax above this counts as a sink (default 0.3). */
    public double minSinkMax() { return minSinkMax; }
    /** REDUNDANT_HEAD: maxRedundancy above this (default 0.9). */
    public double maxRedundancy() { return maxRedundancy; }
    /** INVARIANT_VIOLATION: reconstructionError above this (default 1e-3; NaN: part off). */
    public double maxReconstructionError() { return maxReconstructionError; }
    /** INVARIANT_VIOLATION: zeroSumResidual above this (default 1e-4, for float32; NaN: part off). */
    public double maxZeroSumResidual() { return maxZeroSumResidual; }
    /** ENTROPY_COLLAPSE clears when entropy {@code >=} this (default 0.15) ... */
    public double entropyFloorClear() { return entropyFloorClear; }
    /** ... and {@code >=} this fraction of its running median (default 0.6). */
    public double entropyFractionClear() { return entropyFractionClear; }
    /** LOGIT_GROWTH clears when maxLogit {@code <=} this (default 40) ... */
    public double maxLogitClear() { return maxLogitClear; }
    /** ... and qkSpectralNorm {@code <=} this factor times its running median (default 1.8). */
    public double qkNormGrowthClear() { return qkNormGrowthClear; }
    /** DEAD_HEAD clears when entropy {@code <=} this (default 0.98) ... */
    public double deadEntropyClear() { return deadEntropyClear; }
    /** ... or energyRms {@code >=} this (default 0.07). */
    public double deadEnergyRmsClear() { return deadEnergyRmsClear; }
    /** RANK_COLLAPSE clears when effectiveRank {@code >=} this (default 2). */
    public double minEffectiveRankClear() { return minEffectiveRankClear; }
    /** KEY_COHERENCE clears when keyCoherenceNoFirst {@code <=} this factor times the layer median (default 3.5) ... */
    public double keyCoherenceFactorClear() { return keyCoherenceFactorClear; }
    /** ... and participation {@code >=} this (default 0.3). */
    public double minParticipationClear() { return minParticipationClear; }
    /** SINK_SHIFT clears when sinkMax at the new sink's position {@code <=} this (default 0.25). */
    public double minSinkMaxClear() { return minSinkMaxClear; }
    /** REDUNDANT_HEAD clears when the pair's energy correlation {@code <=} this (default 0.85). */
    public double maxRedundancyClear() { return maxRedundancyClear; }
    /** INVARIANT_VIOLATION clears when reconstructionError {@code <=} this (default 1e-4) ... */
    public double maxReconstructionErrorClear() { return maxReconstructionErrorClear; }
    /** ... and zeroSumResidual {@code <=} this (default 1e-5). */
    public double maxZeroSumResidualClear() { return maxZeroSumResidualClear; }
    /** The built-in rules that run. */
    public Set<Alert> enabled() { return enabled; }
    /** Whether a built-in rule runs. */
    public boolean isEnabled(Alert alert) { return enabled.contains(alert); }
    /** The user rules, in the order added. */
    public List<UserRule> userRules() { return userRules; }

    /** Builds an {@link AlertConfig}; every setter validates and names the offending value. */
    public static final class Builder {
        private int persist = 3;
        private int medianWindow = 40;
        private int medianWarmup = 30;
        private double entropyFloor = 0.1;
        private double entropyDrop = 0.5;
        private double learningLossFall = 0.25;
        private double maxLogit = 50;
        private double maxLogitAtOnce = 200;
        private double qkNormGrowth = 2;
        private double deadEntropy = 0.99;
        private double deadEnergyRms = 0.05;
        private double minEffectiveRank = 1.5;
        private double keyCoherenceFactor = 4;
        private double minParticipation = 0.25;
        private double minSinkMax = 0.3;
        private double maxRedundancy = 0.9;
        private double maxReconstructionError = 1e-3;
        private double maxZeroSumResidual = 1e-4;
        private double entropyFloorClear = Double.NaN;
        private double entropyFractionClear = Double.NaN;
        private double maxLogitClear = Double.NaN;
        private double qkNormGrowthClear = Double.NaN;
        private double deadEntropyClear = Double.NaN;
        private double deadEnergyRmsClear = Double.NaN;
        private double minEffectiveRankClear = Double.NaN;
        private double keyCoherenceFactorClear = Double.NaN;
        private double minParticipationClear = Double.NaN;
        private double minSinkMaxClear = Double.NaN;
        private double maxRedundancyClear = Double.NaN;
        private double maxReconstructionErrorClear = Double.NaN;
        private double maxZeroSumResidualClear = Double.NaN;
        private final EnumSet<Alert> enabled = EnumSet.allOf(Alert.class);
        private final List<UserRule> userRules = new ArrayList<>();

        private Builder() {
        }

        /** Consecutive observations to fire and to resolve; at least 1. */
        public Builder persist(int observations) {
            if (observations < 1) {
                throw new IllegalArgumentException("persist must be >= 1 but was " + observations);
            }
            persist = observations;
            return this;
        }

        /** The running-median window and the warm-up ({@code 1 <= warmup <= window}; see {@link AlertConfig#medianWarmup()}). */
        public Builder medianWindow(int window, int warmup) {
            if (window < 1) {
                throw new IllegalArgumentException("median window must be >= 1 but was " + window);
            }
            if (warmup < 1 || warmup > window) {
                throw new IllegalArgumentException("median warm-up must be in [1, " + window + "] but was " + warmup);
            }
            medianWindow = window;
            medianWarmup = warmup;
            return this;
        }

        /** ENTROPY_COLLAPSE: entropy {@code < floor}, or {@code < (1 - drop) x} its running median. */
        public Builder entropyCollapse(double floor, double drop) {
            bothParts("entropyCollapse", floor, drop);
            entropyFloor = optional("entropy floor", floor, 0, 1, true);
            entropyDrop = optional("entropy drop", drop, 0, 1, false);
            return this;
        }

        /**
         * ENTROPY_COLLAPSE holds back while the training loss is at least {@code fraction} below its running
         * median ({@code 0 < fraction < 1}; NaN: never holds back; see {@link AlertConfig#learningLossFall()}).
         */
        public Builder learningLossFall(double fraction) {
            learningLossFall = optional("learning loss fall", fraction, 0, 1, false);
            return this;
        }

        /** LOGIT_GROWTH fires at once on a maxLogit {@code > max} (NaN: never; see {@link AlertConfig#maxLogitAtOnce()}). */
        public Builder maxLogitAtOnce(double max) {
            maxLogitAtOnce = optional("max logit at once", max, 0, Double.MAX_VALUE, false);
            return this;
        }

        /** LOGIT_GROWTH: maxLogit {@code > max}, or qkSpectralNorm {@code > growth x} its running median. */
        public Builder logitGrowth(double max, double growth) {
            bothParts("logitGrowth", max, growth);
            maxLogit = optional("max logit", max, 0, Double.MAX_VALUE, false);
            if (!Double.isNaN(growth) && !(growth > 1 && Double.isFinite(growth))) {
                throw new IllegalArgumentException("qkSpectralNorm growth factor must be > 1 (or NaN) but was " + growth);
            }
            qkNormGrowth = growth;
            return this;
        }

        /** DEAD_HEAD: entropy {@code > minEntropy} and energyRms {@code < maxEnergyRms}. */
        public Builder deadHead(double minEntropy, double maxEnergyRms) {
            deadEntropy = required("dead-head entropy", minEntropy, 0, 1);
            deadEnergyRms = required("dead-head energyRms", maxEnergyRms, 0, Double.MAX_VALUE);
            return this;
        }

        /** RANK_COLLAPSE: effectiveRank {@code < min}. */
        public Builder rankCollapse(double min) {
            minEffectiveRank = required("minimum effectiveRank", min, 0, Double.MAX_VALUE);
            return this;
        }

        /** KEY_COHERENCE: keyCoherenceNoFirst {@code > factor x} the layer median, or participation {@code < min}. */
        public Builder keyCoherence(double factor, double minParticipation) {
            bothParts("keyCoherence", factor, minParticipation);
            if (!Double.isNaN(factor) && !(factor > 1 && Double.isFinite(factor))) {
                throw new IllegalArgumentException("key coherence factor must be > 1 (or NaN) but was " + factor);
            }
            keyCoherenceFactor = factor;
            this.minParticipation = optional("minimum participation", minParticipation, 0, 1, true);
            return this;
        }

        /** SINK_SHIFT: sinkMax {@code > min} at a position that was not a sink at the first observation. */
        public Builder sinkShift(double min) {
            minSinkMax = required("sink threshold", min, 0, 1);
            return this;
        }

        /** REDUNDANT_HEAD: maxRedundancy {@code > max}. */
        public Builder redundantHead(double max) {
            maxRedundancy = required("redundancy threshold", max, -1, 1);
            return this;
        }

        /** INVARIANT_VIOLATION: reconstructionError {@code > maxReconstruction} or zeroSumResidual {@code > maxZeroSum}. */
        public Builder invariantViolation(double maxReconstruction, double maxZeroSum) {
            bothParts("invariantViolation", maxReconstruction, maxZeroSum);
            maxReconstructionError = optional("reconstruction error bound", maxReconstruction, 0, Double.MAX_VALUE, false);
            maxZeroSumResidual = optional("zero-sum residual bound", maxZeroSum, 0, Double.MAX_VALUE, false);
            return this;
        }

        /** ENTROPY_COLLAPSE clears when entropy {@code >= floor} and {@code >= fraction x} its running median. */
        public Builder entropyCollapseClears(double floor, double fraction) {
            entropyFloorClear = required("entropy clear floor", floor, 0, 1);
            entropyFractionClear = required("entropy clear fraction", fraction, 0, 1);
            return this;
        }

        /** LOGIT_GROWTH clears when maxLogit {@code <= max} and qkSpectralNorm {@code <= growth x} its running median. */
        public Builder logitGrowthClears(double max, double growth) {
            maxLogitClear = required("max logit clear bound", max, 0, Double.MAX_VALUE);
            qkNormGrowthClear = required("qkSpectralNorm clear factor", growth, 1, Double.MAX_VALUE);
            return this;
        }

        /** DEAD_HEAD clears when entropy {@code <= maxEntropy} or energyRms {@code >= minEnergyRms}. */
        public Builder deadHeadClears(double maxEntropy, double minEnergyRms) {
            deadEntropyClear = required("dead-head clear entropy", maxEntropy, 0, 1);
            deadEnergyRmsClear = required("dead-head clear energyRms", minEnergyRms, 0, Double.MAX_VALUE);
            return this;
        }

        /** RANK_COLLAPSE clears when effectiveRank {@code >= min}. */
        public Builder rankCollapseClears(double min) {
            minEffectiveRankClear = required("effectiveRank clear bound", min, 0, Double.MAX_VALUE);
            return this;
        }

        /** KEY_COHERENCE clears when keyCoherenceNoFirst {@code <= factor x} the layer median and participation {@code >= min}. */
        public Builder keyCoherenceClears(double factor, double minParticipation) {
            keyCoherenceFactorClear = required("key coherence clear factor", factor, 1, Double.MAX_VALUE);
            minParticipationClear = required("participation clear bound", minParticipation, 0, 1);
            return this;
        }

        /** SINK_SHIFT clears when sinkMax at the new sink's position is {@code <= max}. */
        public Builder sinkShiftClears(double max) {
            minSinkMaxClear = required("sink clear bound", max, 0, 1);
            return this;
        }

        /** REDUNDANT_HEAD clears when the pair's energy correlation is {@code <= max}. */
        public Builder redundantHeadClears(double max) {
            maxRedundancyClear = required("redundancy clear bound", max, -1, 1);
            return this;
        }

        /** INVARIANT_VIOLATION clears when reconstructionError {@code <= maxReconstruction} and zeroSumResidual {@code <= maxZeroSum}. */
        public Builder invariantViolationClears(double maxReconstruction, double maxZeroSum) {
            maxReconstructionErrorClear = required("reconstruction error clear bound", maxReconstruction, 0, Double.MAX_VALUE);
            maxZeroSumResidualClear = required("zero-sum residual clear bound", maxZeroSum, 0, Double.MAX_VALUE);
            return this;
        }

        /** Switches built-in rules off. */
        public Builder disable(Alert... alerts) {
            for (Alert a : alerts) {
                if (a == null) {
                    throw new IllegalArgumentException("cannot disable a null alert");
                }
                enabled.remove(a);
            }
            return this;
        }

        /** Runs only these built-in rules (user rules still run). */
        public Builder enableOnly(Alert... alerts) {
            enabled.clear();
            for (Alert a : alerts) {
                if (a == null) {
                    throw new IllegalArgumentException("cannot enable a null alert");
                }
                enabled.add(a);
            }
            return this;
        }

        /** Adds a user rule; names must be unique. */
        public Builder rule(UserRule rule) {
            if (rule == null) {
                throw new IllegalArgumentException("rule must not be null");
            }
            Set<String> names = new HashSet<>();
            userRules.forEach(r -> names.add(r.name()));
            if (names.contains(rule.name())) {
                throw new IllegalArgumentException("a rule named '" + rule.name() + "' was already added");
            }
            userRules.add(rule);
            return this;
        }

        /** Builds the configuration; fails when a band does not lie on the healthy side of its threshold. */
        public AlertConfig build() {
            checkBand("ENTROPY_COLLAPSE entropy", entropyFloor, entropyFloorClear, true);
            checkBand("ENTROPY_COLLAPSE fraction of the running median", 1 - entropyDrop, entropyFractionClear, true);
            checkBand("LOGIT_GROWTH maxLogit", maxLogit, maxLogitClear, false);
            if (maxLogitAtOnce < maxLogit) {
                throw new IllegalArgumentException("LOGIT_GROWTH: the bound that fires at once, " + maxLogitAtOnce
                        + ", must be >= the max logit " + maxLogit);
            }
            checkBand("LOGIT_GROWTH qkSpectralNorm factor", qkNormGrowth, qkNormGrowthClear, false);
            checkBand("DEAD_HEAD entropy", deadEntropy, deadEntropyClear, false);
            checkBand("DEAD_HEAD energyRms", deadEnergyRms, deadEnergyRmsClear, true);
            checkBand("RANK_COLLAPSE effectiveRank", minEffectiveRank, minEffectiveRankClear, true);
            checkBand("KEY_COHERENCE factor", keyCoherenceFactor, keyCoherenceFactorClear, false);
            checkBand("KEY_COHERENCE participation", minParticipation, minParticipationClear, true);
            checkBand("SINK_SHIFT sinkMax", minSinkMax, minSinkMaxClear, false);
            checkBand("REDUNDANT_HEAD maxRedundancy", maxRedundancy, maxRedundancyClear, false);
            checkBand("INVARIANT_VIOLATION reconstructionError", maxReconstructionError, maxReconstructionErrorClear, false);
            checkBand("INVARIANT_VIOLATION zeroSumResidual", maxZeroSumResidual, maxZeroSumResidualClear, false);
            return new AlertConfig(this);
        }

        /**
         * A clear bound must sit on the healthy side of its threshold: at or above it for a rule that fires
         * below ({@code firesBelow}), at or below it otherwise. A part switched off (NaN) has no band.
         */
        private static void checkBand(String what, double fire, double clear, boolean firesBelow) {
            if (Double.isNaN(fire)) {
                return;
            }
            if (firesBelow ? clear < fire : clear > fire) {
                throw new IllegalArgumentException(what + ": the clear bound " + clear + " must be "
                        + (firesBelow ? ">=" : "<=") + " the threshold " + fire + " (set it with the ...Clears method)");
            }
        }

        private static void bothParts(String rule, double a, double b) {
            if (Double.isNaN(a) && Double.isNaN(b)) {
                throw new IllegalArgumentException(rule + ": both parts NaN; use disable(...) to switch the rule off");
            }
        }

        private static double required(String what, double v, double lo, double hi) {
            if (!(v > lo && v <= hi) || Double.isInfinite(v)) {
                throw new IllegalArgumentException(what + " must be in (" + lo + ", " + hi + "] but was " + v);
            }
            return v;
        }

        private static double optional(String what, double v, double lo, double hi, boolean hiInclusive) {
            if (Double.isNaN(v)) {
                return v;
            }
            boolean ok = v > lo && (hiInclusive ? v <= hi : v < hi) && Double.isFinite(v);
            if (!ok) {
                throw new IllegalArgumentException(what + " must be in (" + lo + ", " + hi + (hiInclusive ? "]" : ")")
                        + " (or NaN to switch it off) but was " + v);
            }
            return v;
        }
    }
}
