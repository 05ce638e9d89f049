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
 * <p>Relative rules (the entropy drop, the {@code qkSpectralNorm} growth) compare against a running
 * median: the median of the head's last {@code medianWindow} finite values of that metric, taken from
 * observations where the rule did not hold (so a lasting collapse keeps firing instead of becoming the
 * new normal). The comparison starts once the window holds {@code medianWarmup} values.
 */
public final class AlertConfig {

    private final int persist;
    private final int medianWindow;
    private final int medianWarmup;
    private final double entropyFloor;
    private final double entropyDrop;
    private final double maxLogit;
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
    private final Set<Alert> enabled;
    private final List<UserRule> userRules;

    private AlertConfig(Builder b) {
        persist = b.persist;
        medianWindow = b.medianWindow;
        medianWarmup = b.medianWarmup;
        entropyFloor = b.entropyFloor;
        entropyDrop = b.entropyDrop;
        maxLogit = b.maxLogit;
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
        enabled = Collections.unmodifiableSet(EnumSet.copyOf(b.enabled));
        userRules = List.copyOf(b.userRules);
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
    /** Values in a running median (default 20). */
    public int medianWindow() { return medianWindow; }
    /** Values a running median needs before relative rules compare against it (default 5). */
    public int medianWarmup() { return medianWarmup; }
    /** ENTROPY_COLLAPSE: entropy below this (default 0.1; NaN: part off). */
    public double entropyFloor() { return entropyFloor; }
    /** ENTROPY_COLLAPSE: entropy fell by more than this fraction of its running median (default 0.5; NaN: off). */
    public double entropyDrop() { return entropyDrop; }
    /** LOGIT_GROWTH: maxLogit above this (default 50; NaN: part off). */
    public double maxLogit() { return maxLogit; }
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
     * participation compared is the head's median over its last {@link #medianWarmup()} observations,
     * since one short sampled sequence makes it noisy.
     */
    public double minParticipation() { return minParticipation; }
    /** SINK_SHIFT: sinkMax above this counts as a sink (default 0.3). */
    public double minSinkMax() { return minSinkMax; }
    /** REDUNDANT_HEAD: maxRedundancy above this (default 0.9). */
    public double maxRedundancy() { return maxRedundancy; }
    /** INVARIANT_VIOLATION: reconstructionError above this (default 1e-3; NaN: part off). */
    public double maxReconstructionError() { return maxReconstructionError; }
    /** INVARIANT_VIOLATION: zeroSumResidual above this (default 1e-4, for float32; NaN: part off). */
    public double maxZeroSumResidual() { return maxZeroSumResidual; }
    /** The built-in rules that run. */
    public Set<Alert> enabled() { return enabled; }
    /** Whether a built-in rule runs. */
    public boolean isEnabled(Alert alert) { return enabled.contains(alert); }
    /** The user rules, in the order added. */
    public List<UserRule> userRules() { return userRules; }

    /** Builds an {@link AlertConfig}; every setter validates and names the offending value. */
    public static final class Builder {
        private int persist = 3;
        private int medianWindow = 20;
        private int medianWarmup = 5;
        private double entropyFloor = 0.1;
        private double entropyDrop = 0.5;
        private double maxLogit = 50;
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

        /** The running-median window and how many values it needs first ({@code 1 <= warmup <= window}). */
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

        public AlertConfig build() {
            return new AlertConfig(this);
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
