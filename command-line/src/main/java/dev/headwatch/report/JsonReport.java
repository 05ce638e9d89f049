package dev.headwatch.report;

import dev.headwatch.checkpoint.CheckpointAlert;
import dev.headwatch.checkpoint.CheckpointResult;
import dev.headwatch.checkpoint.FailedCheckpoint;
import dev.headwatch.checkpoint.HeadResult;
import dev.headwatch.checkpoint.LayerResult;
import dev.headwatch.checkpoint.CheckpointAnalysis;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.headwatch.core.HeadField;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code report.json}: every figure by its METRICS.md field name; undefined values are {@code null}. */
final class JsonReport {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    private JsonReport() {
    }

    static void write(CheckpointAnalysis report, Writer out) throws IOException {
        JSON.writeValue(out, tree(report));
    }

    static Map<String, Object> tree(CheckpointAnalysis r) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("created", r.created().toString());
        root.put("probe", r.probe());
        root.put("notice", r.notice());
        List<Object> checkpoints = new ArrayList<>();
        for (CheckpointResult c : r.checkpoints()) {
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("checkpoint", c.label());
            cm.put("file", c.file());
            cm.put("iteration", c.iteration() < 0 ? null : c.iteration());
            cm.put("epoch", c.epoch() < 0 ? null : c.epoch());
            cm.put("format", c.format());
            List<Object> layers = new ArrayList<>();
            for (LayerResult l : c.layers()) {
                Map<String, Object> lm = new LinkedHashMap<>();
                lm.put("layer", l.layer());
                lm.put("kind", l.kind());
                lm.put("qkOverlap", matrix(l.qkOverlap()));
                lm.put("energyCorrelation", matrix(l.energyCorrelation()));
                lm.put("attentionJsd", matrix(l.attentionJsd()));
                List<Object> heads = new ArrayList<>();
                for (HeadResult h : l.heads()) {
                    heads.add(head(l.layer(), h));
                }
                lm.put("heads", heads);
                layers.add(lm);
            }
            cm.put("layers", layers);
            List<Object> skipped = new ArrayList<>();
            for (CheckpointResult.SkippedLayer s : c.skipped()) {
                skipped.add(Map.of("layer", s.layer(), "reason", s.reason()));
            }
            cm.put("skipped", skipped);
            checkpoints.add(cm);
        }
        root.put("checkpoints", checkpoints);
        List<Object> failed = new ArrayList<>();
        for (FailedCheckpoint f : r.failed()) {
            Map<String, Object> fm = new LinkedHashMap<>();
            fm.put("checkpoint", f.label());
            fm.put("file", f.file());
            fm.put("problem", f.problem());
            failed.add(fm);
        }
        root.put("failed", failed);
        root.put("trends", trends(r));
        Map<String, Object> alerts = new LinkedHashMap<>();
        Map<String, Object> first = new LinkedHashMap<>();
        for (Map.Entry<String, Optional<CheckpointAlert>> e : r.firstFiring().entrySet()) {
            first.put(e.getKey(), e.getValue().map(JsonReport::alert).orElse(null));
        }
        alerts.put("firstFiring", first);
        List<Object> events = new ArrayList<>();
        for (CheckpointAlert a : r.alerts()) {
            events.add(alert(a));
        }
        alerts.put("events", events);
        root.put("alerts", alerts);
        return root;
    }

    /** One head's record: identity, then every weight-only and per-head field. */
    static Map<String, Object> head(String layer, HeadResult h) {
        Map<String, Object> hm = new LinkedHashMap<>();
        hm.put("layer", layer);
        hm.put("head", h.head());
        hm.put("n", h.n());
        hm.put("d", h.d());
        hm.put("mask", h.mask().label());
        for (String f : CheckpointAnalysis.fieldNames()) {
            hm.put(f, finite(CheckpointAnalysis.output(h, f)));
        }
        return hm;
    }

    private static List<Object> trends(CheckpointAnalysis r) {
        List<Object> out = new ArrayList<>();
        if (r.checkpoints().size() < 2) {
            return out;
        }
        for (CheckpointAnalysis.HeadKey key : r.heads()) {
            for (String f : CheckpointAnalysis.fieldNames()) {
                if (f.equals(HeadField.REDUNDANCY_PARTNER.fieldName()) || f.equals(HeadField.SINK_POSITION.fieldName())) {
                    continue; // positions, not quantities
                }
                double[] v = r.trend(key, f);
                int first = -1;
                int last = -1;
                for (int i = 0; i < v.length; i++) {
                    if (Double.isFinite(v[i])) {
                        last = i;
                        first = first < 0 ? i : first;
                    }
                }
                if (first < 0) {
                    continue;
                }
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("layer", key.layer());
                t.put("head", key.head());
                t.put("field", f);
                List<Object> values = new ArrayList<>();
                for (double x : v) {
                    values.add(number(x));
                }
                t.put("values", values);
                t.put("first", v[first]);
                t.put("last", v[last]);
                t.put("change", number(v[last] - v[first]));
                t.put("relativeChange", v[first] == 0 ? null : number((v[last] - v[first]) / Math.abs(v[first])));
                out.add(t);
            }
        }
        return out;
    }

    private static Map<String, Object> alert(CheckpointAlert a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("checkpoint", a.checkpoint());
        m.putAll(a.event().toMap());
        return m;
    }

    private static List<Object> matrix(double[][] m) {
        if (m == null) {
            return null;
        }
        List<Object> rows = new ArrayList<>();
        for (double[] row : m) {
            List<Object> r = new ArrayList<>();
            for (double v : row) {
                r.add(number(v));
            }
            rows.add(r);
        }
        return rows;
    }

    /** JSON has no NaN or infinity: both become null. */
    private static Number finite(Number v) {
        return v == null || Double.isFinite(v.doubleValue()) ? v : null;
    }

    static Double number(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
