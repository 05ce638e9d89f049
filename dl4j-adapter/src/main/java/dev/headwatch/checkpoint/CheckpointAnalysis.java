package dev.headwatch.checkpoint;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.WeightField;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.alert.OpenFindings;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The result of analysing a series of checkpoints: what each checkpoint measured, what could not be
 * read, and the alert transitions found by feeding the checkpoints to the alert engine in order (one
 * observation per checkpoint). Immutable.
 *
 * @param created     when the analysis ran
 * @param probe       a description of the probe data, or null for a weight-only analysis
 * @param checkpoints the analysed checkpoints, in series order
 * @param failed      the checkpoints that could not be analysed
 * @param rules       the names of the alert rules that were evaluated
 * @param alerts      every alert transition, in order
 * @param probeTokens the tokens of the first probe sequence (the one {@link HeadPlots} draws), one per position;
 *                    empty when not known
 * @param notice      what the reader must know first (e.g. "interrupted at step 120 of 900"), or null
 */
public record CheckpointAnalysis(Instant created, String probe, List<CheckpointResult> checkpoints,
                                 List<FailedCheckpoint> failed, List<String> rules, List<CheckpointAlert> alerts,
                                 List<String> probeTokens, String notice) {

    public CheckpointAnalysis {
        if (created == null || checkpoints == null || failed == null || rules == null || alerts == null
                || probeTokens == null) {
            throw new IllegalArgumentException("created, checkpoints, failed, rules, alerts and probeTokens must not be null");
        }
        probeTokens = List.copyOf(probeTokens);
        checkpoints = List.copyOf(checkpoints);
        failed = List.copyOf(failed);
        rules = List.copyOf(rules);
        alerts = List.copyOf(alerts);
    }

    /** This analysis with {@code notice} shown first in its reports. */
    public CheckpointAnalysis withNotice(String notice) {
        return new CheckpointAnalysis(created, probe, checkpoints, failed, rules, alerts, probeTokens, notice);
    }

    /** A head of a layer, as reports name it. */
    public record HeadKey(String layer, int head) {
    }

    /** Every head seen in any checkpoint, in order of first appearance. */
    public List<HeadKey> heads() {
        Set<HeadKey> keys = new LinkedHashSet<>();
        for (CheckpointResult c : checkpoints) {
            for (LayerResult l : c.layers()) {
                for (HeadResult h : l.heads()) {
                    keys.add(new HeadKey(l.layer(), h.head()));
                }
            }
        }
        return List.copyOf(keys);
    }

    /** One metric of one head across the checkpoints, NaN where a checkpoint lacks it. */
    public double[] trend(HeadKey key, String field) {
        double[] out = new double[checkpoints.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = find(checkpoints.get(i), key).map(h -> value(h, field)).orElse(Double.NaN);
        }
        return out;
    }

    /** The checkpoint's result for one head, if it has that head. */
    public static Optional<HeadResult> find(CheckpointResult c, HeadKey key) {
        for (LayerResult l : c.layers()) {
            if (l.layer().equals(key.layer())) {
                for (HeadResult h : l.heads()) {
                    if (h.head() == key.head()) {
                        return Optional.of(h);
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** A weight-only or data field of a head by its output name, NaN when absent. */
    public static double value(HeadResult h, String field) {
        for (WeightField f : WeightField.values()) {
            if (f.fieldName().equals(field)) {
                return h.weights() == null ? Double.NaN : h.weights().get(f);
            }
        }
        for (HeadField f : HeadField.values()) {
            if (f.fieldName().equals(field)) {
                return h.metrics() == null ? Double.NaN : h.metrics().get(f);
            }
        }
        throw new IllegalArgumentException("unknown field '" + field + "'");
    }

    /**
     * A field of a head as the outputs write it: {@code null} when absent, a {@link Long} for an integer
     * field ({@link HeadField#isInteger()}), else a {@link Double}.
     */
    public static Number output(HeadResult h, String field) {
        double v = value(h, field);
        for (HeadField f : HeadField.values()) {
            if (f.fieldName().equals(field)) {
                return f.output(v);
            }
        }
        return Double.isNaN(v) ? null : v;
    }

    /** Every field name in output order: the weight-only fields, then METRICS.md's per-head fields. */
    public static List<String> fieldNames() {
        List<String> names = new ArrayList<>();
        for (WeightField f : WeightField.values()) {
            names.add(f.fieldName());
        }
        for (HeadField f : HeadField.values()) {
            names.add(f.fieldName());
        }
        return names;
    }

    /** Per rule, the first transition to FIRING on any head (empty when the rule never fired). */
    public Map<String, Optional<CheckpointAlert>> firstFiring() {
        Map<String, Optional<CheckpointAlert>> out = new LinkedHashMap<>();
        for (String rule : rules) {
            out.put(rule, Optional.empty());
        }
        for (CheckpointAlert a : alerts) {
            if (a.event().state() == AlertState.FIRING && out.getOrDefault(a.event().alert(), Optional.empty()).isEmpty()) {
                out.put(a.event().alert(), Optional.of(a));
            }
        }
        return out;
    }

    /** The alerts still firing after the last checkpoint, per head (a finding on a group: on each of its heads). */
    public Map<HeadKey, List<String>> firingAtEnd() {
        OpenFindings<AlertEvent> open = OpenFindings.ofEvents();
        alerts.forEach(a -> open.add(a.event()));
        Map<HeadKey, List<String>> out = new LinkedHashMap<>();
        for (OpenFindings.Finding<AlertEvent> f : open.open()) {
            for (int head : f.latest().heads()) {
                out.computeIfAbsent(new HeadKey(f.latest().layer(), head), k -> new ArrayList<>()).add(f.latest().alert());
            }
        }
        return out;
    }
}
