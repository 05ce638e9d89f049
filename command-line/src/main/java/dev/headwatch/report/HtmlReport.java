package dev.headwatch.report;

import dev.headwatch.checkpoint.CheckpointAlert;
import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.checkpoint.CheckpointAnalysis.HeadKey;
import dev.headwatch.checkpoint.CheckpointResult;
import dev.headwatch.checkpoint.FailedCheckpoint;
import dev.headwatch.checkpoint.HeadPlots;
import dev.headwatch.checkpoint.HeadResult;
import dev.headwatch.checkpoint.LayerResult;
import dev.headwatch.core.HeadField;
import dev.headwatch.core.WeightField;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.OpenFindings;
import dev.headwatch.core.alert.Severity;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code report.html}: one self-contained page (inline CSS, charts embedded as base64 PNG, no script, no
 * external reference). It opens with the verdict (per layer, the heads in alert at the last checkpoint and
 * since when, and the healthy ones), then unreadable checkpoints, alerts, the heads of the last checkpoint
 * (tables, and a picker showing one head's heat maps and singular values at a time), trends across
 * checkpoints with the alert thresholds, the checkpoints, and a glossary of every metric shown. Every text
 * that comes from a model or a file (layer names, paths, tokens, messages) is escaped.
 */
final class HtmlReport {

    /** Fields drawn as trend charts across checkpoints. */
    private static final List<String> TREND_FIELDS = List.of(
            WeightField.QK_SPECTRAL_NORM.fieldName(), WeightField.QK_STABLE_RANK.fieldName(),
            HeadField.ENTROPY.fieldName(), HeadField.MAX_LOGIT.fieldName(), HeadField.EFFECTIVE_RANK.fieldName(),
            HeadField.ENERGY_RMS.fieldName(), HeadField.KEY_COHERENCE_NO_FIRST.fieldName(),
            HeadField.SINK_MAX.fieldName(), HeadField.MAX_REDUNDANCY.fieldName());

    private static final String CSS = """
            body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#222;max-width:1400px}
            h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
            h3{font-size:15px;margin-top:20px}img{max-width:100%;height:auto}
            table{border-collapse:collapse;font-size:12px;margin:8px 0}
            th,td{border:1px solid #ddd;padding:3px 5px;text-align:right}td{white-space:nowrap}
            th{background:#f3f3f3}td.l,th.l{text-align:left;white-space:normal}th[title]{cursor:help}
            th a{color:inherit;text-decoration:none}
            tr.flag td{background:#fde2e1}.badge{color:#fff;background:#c0392b;border-radius:3px;padding:0 4px;margin-right:2px}
            .badge.info{background:#5d6d7e}.ok{color:#2e7d32}.bad{color:#c0392b}.scroll{overflow-x:auto;max-width:100%}
            .lead{font-size:16px}.verdict td{vertical-align:top}td.nw{white-space:nowrap}
            td.msg{min-width:20em}
            .charts{display:flex;flex-wrap:wrap;gap:6px;align-items:flex-start}.charts img{border:1px solid #eee}
            .muted{color:#777}dl.glossary dt{font-weight:bold;margin-top:6px}dl.glossary dd{margin-left:16px}
            .picker{margin:10px 0}.picker>input{position:absolute;opacity:0}
            .picker>label{display:inline-block;padding:2px 8px;margin:0 4px 4px 0;border:1px solid #bbb;border-radius:3px;cursor:pointer}
            .picker>label.flag{border-color:#c0392b;color:#c0392b}.picker>input:focus-visible+label{outline:2px solid #2166ac}
            .picker>input:checked+label{background:#333;border-color:#333;color:#fff}
            .picker>.panel{display:none;border:1px solid #eee;padding:6px}
            @media print{.picker>.panel{display:block}.picker>label{display:none}}
            """;

    private HtmlReport() {
    }

    static void write(CheckpointAnalysis r, Writer out) throws IOException {
        StringBuilder b = new StringBuilder(1 << 16);
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<title>headwatch report</title><style>").append(CSS).append(pickerCss(r)).append("</style></head><body>\n");
        Set<String> shown = new LinkedHashSet<>();
        summary(r, b);
        verdict(r, b);
        layerSummary(r, b, shown);
        failures(r, b);
        alerts(r, b);
        layers(r, b, shown);
        trends(r, b, shown);
        checkpoints(r, b);
        glossary(b, shown);
        b.append("</body></html>\n");
        out.write(b.toString());
    }

    private static void summary(CheckpointAnalysis r, StringBuilder b) {
        b.append("<h1>headwatch report</h1>");
        if (r.notice() != null) {
            b.append("<p class=\"bad\"><strong>").append(esc(r.notice())).append("</strong></p>\n");
        }
        b.append("<p>");
        b.append(r.checkpoints().size()).append(" checkpoint").append(r.checkpoints().size() == 1 ? "" : "s")
                .append(" analysed");
        if (!r.failed().isEmpty()) {
            b.append(", <span class=\"bad\">").append(r.failed().size()).append(" unreadable</span>");
        }
        b.append(". ").append(r.probe() == null ? "Weight-only analysis (no probe data)."
                : "Probe data: " + esc(r.probe()) + ".");
        b.append(" Created ").append(esc(r.created().toString())).append(".</p>\n");
    }

    /** An alert open on a head, since the transition it began with; {@code others}: the other heads it names. */
    record Firing(String rule, Severity severity, CheckpointAlert since, List<Integer> others) {
        String badge() {
            return HtmlReport.badge(rule, severity) + (others.isEmpty() ? "" : " with " + AlertEvent.describeHeads(others));
        }
    }

    /**
     * Per head, the alerts open after the last transition, each with the transition it began with. A finding
     * on a group of heads is one alert open on each of the heads its latest event names.
     */
    static Map<HeadKey, List<Firing>> firingNow(CheckpointAnalysis r) {
        OpenFindings<CheckpointAlert> open = new OpenFindings<>(CheckpointAlert::event);
        r.alerts().forEach(open::add);
        Map<HeadKey, List<Firing>> out = new LinkedHashMap<>();
        for (OpenFindings.Finding<CheckpointAlert> f : open.open()) {
            AlertEvent ev = f.latest().event();
            for (int head : ev.heads()) {
                out.computeIfAbsent(new HeadKey(ev.layer(), head), k -> new ArrayList<>()).add(new Firing(ev.alert(),
                        ev.severity(), f.began(), ev.heads().stream().filter(h -> h != head).toList()));
            }
        }
        return out;
    }

    private static void verdict(CheckpointAnalysis r, StringBuilder b) {
        b.append("<section id=\"verdict\"><h2>Verdict");
        if (r.checkpoints().isEmpty()) {
            b.append("</h2><p class=\"lead bad\">No checkpoint could be analysed.</p></section>\n");
            return;
        }
        CheckpointResult last = r.checkpoints().get(r.checkpoints().size() - 1);
        b.append(" at ").append(esc(last.label())).append(step(last)).append("</h2>\n");
        Map<HeadKey, List<Firing>> now = firingNow(r);
        Map<String, CheckpointResult> byLabel = new LinkedHashMap<>();
        r.checkpoints().forEach(c -> byLabel.putIfAbsent(c.label(), c));
        Map<String, List<Integer>> layers = new LinkedHashMap<>();
        r.heads().forEach(k -> layers.computeIfAbsent(k.layer(), x -> new ArrayList<>()).add(k.head()));
        long serious = now.values().stream().filter(f -> f.stream().anyMatch(x -> x.severity() != Severity.INFO)).count();
        int heads = r.heads().size();
        b.append("<p class=\"lead\"><b class=\"").append(now.isEmpty() ? "ok" : "bad").append("\">").append(now.size())
                .append(" of ").append(heads).append(" heads in alert</b>");
        if (!now.isEmpty()) {
            b.append(" (").append(serious).append(" warning or critical")
                    .append(serious < now.size() ? ", " + (now.size() - serious) + " information only" : "").append(')');
        }
        b.append(", ").append(heads - now.size()).append(" healthy.");
        if (r.probe() == null) {
            b.append(" <span class=\"muted\">Weight-only: only rules that read weights can fire.</span>");
        }
        b.append("</p>\n<div class=\"scroll\"><table class=\"verdict\"><tr><th class=\"l\">layer</th>")
                .append("<th class=\"l\">in alert now (since)</th><th class=\"l\">healthy</th></tr>\n");
        Map<HeadKey, Set<String>> resolved = resolvedEarlier(r, now);
        layers.forEach((layer, layerHeads) -> {
            b.append("<tr><td class=\"l\">").append(esc(layer)).append("</td><td class=\"l\">");
            List<Integer> healthy = new ArrayList<>();
            for (int h : layerHeads) {
                List<Firing> f = now.get(new HeadKey(layer, h));
                if (f == null) {
                    healthy.add(h);
                    continue;
                }
                // One line per checkpoint an alert began at, its alerts together.
                Map<String, List<Firing>> bySince = new LinkedHashMap<>();
                f.forEach(x -> bySince.computeIfAbsent(x.since().checkpoint(), c -> new ArrayList<>()).add(x));
                bySince.forEach((since, xs) -> {
                    b.append("<div><b>head ").append(h).append("</b>");
                    xs.forEach(x -> b.append(' ').append(x.badge()));
                    b.append(" since ").append(esc(since))
                            .append(Optional.ofNullable(byLabel.get(since)).map(HtmlReport::step).orElse("")).append("</div>");
                });
            }
            if (healthy.size() == layerHeads.size()) {
                b.append("<span class=\"ok\">none</span>");
            }
            b.append("</td><td class=\"l nw\">");
            b.append(healthy.isEmpty() ? "<span class=\"bad\">none</span>" : "<span class=\"ok\">" + (healthy.size() == 1
                    ? "head " : "heads ") + healthy.stream().map(String::valueOf).collect(Collectors.joining(", ")) + "</span>");
            List<String> earlier = new ArrayList<>();
            resolved.forEach((k, rules) -> {
                if (k.layer().equals(layer) && healthy.contains(k.head())) {
                    earlier.add("head " + k.head() + " " + String.join(", ", rules));
                }
            });
            if (!earlier.isEmpty()) {
                b.append("<br><span class=\"muted\">resolved earlier: ").append(esc(String.join("; ", earlier))).append("</span>");
            }
            b.append("</td></tr>\n");
        });
        b.append("</table></div></section>\n");
    }

    /** Per head, the rules that fired at some checkpoint and no longer hold. */
    private static Map<HeadKey, Set<String>> resolvedEarlier(CheckpointAnalysis r, Map<HeadKey, List<Firing>> now) {
        Map<HeadKey, Set<String>> out = new LinkedHashMap<>();
        for (CheckpointAlert a : r.alerts()) {
            AlertEvent ev = a.event();
            for (int head : ev.heads()) {
                HeadKey k = new HeadKey(ev.layer(), head);
                if (now.getOrDefault(k, List.of()).stream().noneMatch(f -> f.rule().equals(ev.alert()))) {
                    out.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(ev.alert());
                }
            }
        }
        return out;
    }

    /** The heads an event names, "0, 2, 5". */
    private static String heads(AlertEvent ev) {
        return ev.heads().stream().map(String::valueOf).collect(Collectors.joining(", "));
    }

    private static String step(CheckpointResult c) {
        return c.iteration() < 0 ? "" : " (step " + c.iteration() + ")";
    }

    private static String badge(String rule, Severity severity) {
        return "<span class=\"badge" + (severity == Severity.INFO ? " info" : "") + "\" title=\"" + esc(severity.name())
                + "\">" + esc(rule) + "</span>";
    }

    private static void failures(CheckpointAnalysis r, StringBuilder b) {
        if (r.failed().isEmpty()) {
            return;
        }
        b.append("<h2>Unreadable checkpoints</h2><div class=\"scroll\"><table><tr><th class=\"l\">checkpoint</th>")
                .append("<th class=\"l\">file</th><th class=\"l\">problem</th></tr>\n");
        for (FailedCheckpoint f : r.failed()) {
            b.append("<tr><td class=\"l\">").append(esc(f.label())).append("</td><td class=\"l\">").append(esc(f.file()))
                    .append("</td><td class=\"l bad\">").append(esc(f.problem())).append("</td></tr>\n");
        }
        b.append("</table></div>\n");
    }

    private static void alerts(CheckpointAnalysis r, StringBuilder b) {
        b.append("<h2>Alerts</h2>");
        b.append("<p class=\"muted\">Transitions of the alert rules of METRICS.md: one observation per checkpoint when")
                .append(" saved models are analysed, per observed step when they come from the monitored run.</p>");
        b.append("<div class=\"scroll\"><table><tr><th class=\"l\">rule</th><th class=\"l\">first fires at</th>")
                .append("<th class=\"l\">layer</th><th>head</th><th>value</th><th>threshold</th><th class=\"l\">message</th></tr>\n");
        for (Map.Entry<String, Optional<CheckpointAlert>> e : r.firstFiring().entrySet()) {
            b.append("<tr><td class=\"l\">").append(esc(e.getKey())).append("</td>");
            if (e.getValue().isEmpty()) {
                b.append("<td class=\"l ok\">never</td><td></td><td></td><td></td><td></td><td></td></tr>\n");
                continue;
            }
            AlertEvent ev = e.getValue().get().event();
            b.append("<td class=\"l bad\">").append(esc(e.getValue().get().checkpoint())).append("</td><td class=\"l\">")
                    .append(esc(ev.layer())).append("</td><td>").append(heads(ev)).append("</td><td>").append(Num.format(ev.value()))
                    .append("</td><td>").append(Num.format(ev.threshold())).append("</td><td class=\"l msg\">").append(esc(ev.message()))
                    .append("</td></tr>\n");
        }
        b.append("</table></div>\n");
        if (!r.alerts().isEmpty()) {
            b.append("<h3>Every transition</h3><div class=\"scroll\"><table><tr><th class=\"l\">checkpoint</th>")
                    .append("<th class=\"l\">rule</th><th class=\"l\">state</th><th class=\"l\">layer</th><th>head</th>")
                    .append("<th>value</th><th>threshold</th></tr>\n");
            for (CheckpointAlert a : r.alerts()) {
                AlertEvent ev = a.event();
                b.append("<tr><td class=\"l\">").append(esc(a.checkpoint())).append("</td><td class=\"l\">")
                        .append(esc(ev.alert())).append("</td><td class=\"l\">").append(esc(ev.state().name()))
                        .append("</td><td class=\"l\">").append(esc(ev.layer())).append("</td><td>").append(heads(ev))
                        .append("</td><td>").append(Num.format(ev.value())).append("</td><td>").append(Num.format(ev.threshold()))
                        .append("</td></tr>\n");
            }
            b.append("</table></div>\n");
        }
    }

    /**
     * A trend chart's input: one series per head of a layer across the checkpoints, and the thresholds of
     * the metric's alert rule.
     */
    record Trend(String layer, String field, String xTitle, double[] x, List<Charts.Series> heads,
                 List<Charts.Series> thresholds) {
    }

    /** The trend charts of every layer, in layer order and then {@link #TREND_FIELDS} order. */
    static List<Trend> trendCharts(CheckpointAnalysis r) {
        List<Trend> out = new ArrayList<>();
        int count = r.checkpoints().size();
        if (count < 2) {
            return out;
        }
        // By iteration when every checkpoint knows it and they come in training order, else by position.
        boolean byIteration = true;
        for (int i = 0; i < count; i++) {
            long it = r.checkpoints().get(i).iteration();
            byIteration &= it >= 0 && (i == 0 || it >= r.checkpoints().get(i - 1).iteration());
        }
        double[] x = new double[count];
        for (int i = 0; i < count; i++) {
            x[i] = byIteration ? r.checkpoints().get(i).iteration() : i;
        }
        String xTitle = byIteration ? "iteration" : "checkpoint";
        Map<String, List<HeadKey>> layers = new LinkedHashMap<>();
        r.heads().forEach(k -> layers.computeIfAbsent(k.layer(), l -> new ArrayList<>()).add(k));
        layers.forEach((layer, keys) -> {
            for (String field : TREND_FIELDS) {
                List<Charts.Series> heads = new ArrayList<>();
                keys.forEach(k -> heads.add(new Charts.Series("head " + k.head(), r.trend(k, field))));
                List<Charts.Series> thresholds = new ArrayList<>();
                for (Glossary.Line line : Glossary.of(field).lines()) {
                    double[] y = new double[count];
                    for (int i = 0; i < count; i++) {
                        final int at = i;
                        y[i] = line.perLayerMedian()
                                ? line.value() * median(heads.stream().mapToDouble(s -> s.y()[at]).toArray())
                                : line.value();
                    }
                    thresholds.add(new Charts.Series(line.label(), y));
                }
                out.add(new Trend(layer, field, xTitle, x, heads, thresholds));
            }
        });
        return out;
    }

    /** The median of the finite values, the mean of the middle two for an even count, as the rules take it. */
    private static double median(double[] values) {
        double[] v = Arrays.stream(values).filter(Double::isFinite).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : 0.5 * (v[v.length / 2 - 1] + v[v.length / 2]);
    }

    private static void trends(CheckpointAnalysis r, StringBuilder b, Set<String> shown) {
        Map<String, List<String>> charts = new LinkedHashMap<>();
        for (Trend t : trendCharts(r)) {
            String png = Charts.lines(t.layer() + ": " + t.field(), t.xTitle(), t.x(), t.heads(), t.thresholds());
            if (png != null) {
                charts.computeIfAbsent(t.layer(), l -> new ArrayList<>())
                        .add(img(png, t.layer() + " " + t.field() + " across checkpoints"));
                shown.add(t.field());
            }
        }
        if (charts.isEmpty()) {
            return;
        }
        b.append("<h2>Trends across checkpoints</h2>\n<p class=\"muted\">Dashed red lines: the default alert")
                .append(" thresholds (see the <a href=\"#glossary\">glossary</a>).</p>\n");
        charts.forEach((layer, imgs) -> b.append("<h3>Layer ").append(esc(layer)).append("</h3><div class=\"charts\">")
                .append(String.join("", imgs)).append("</div>\n"));
    }

    private static void layers(CheckpointAnalysis r, StringBuilder b, Set<String> shown) {
        if (r.checkpoints().isEmpty()) {
            return;
        }
        CheckpointResult last = r.checkpoints().get(r.checkpoints().size() - 1);
        Map<HeadKey, List<Firing>> now = firingNow(r);
        Map<HeadKey, Set<String>> resolved = resolvedEarlier(r, now);
        b.append("<h2>Heads at ").append(esc(last.label())).append("</h2>\n");
        for (int li = 0; li < last.layers().size(); li++) {
            LayerResult l = last.layers().get(li);
            b.append("<h3>Layer ").append(esc(l.layer())).append(" <span class=\"muted\">(").append(esc(l.kind()))
                    .append(", ").append(l.heads().size()).append(" heads)</span></h3>\n");
            List<String> fields = new ArrayList<>();
            for (String f : CheckpointAnalysis.fieldNames()) {
                if (l.heads().stream().anyMatch(h -> !Double.isNaN(CheckpointAnalysis.value(h, f)))) {
                    fields.add(f);
                }
            }
            shown.addAll(fields);
            // Two tables, so each fits a laptop screen: what the alert rules read, then the rest.
            headTable(l, fields.stream().filter(f -> Glossary.of(f).alertInput()).toList(), now, resolved, true, b);
            headTable(l, fields.stream().filter(f -> !Glossary.of(f).alertInput()).toList(), now, resolved, false, b);
            picker(li, l, now, r.probeTokens(), b);
        }
    }

    /** The fields of the per-layer summary: the model-level regularities of the energy field (METRICS.md 7-9). */
    private static final List<String> LAYER_SUMMARY = List.of("participation", "maxKeyShare", "keyCoherence",
            "keyCoherenceNoFirst", "entropy", "effectiveRank");

    /**
     * Per layer at the last checkpoint, the median over its heads of the fields that carry the first paper's
     * model-level claims: energy spread over key positions, traced to incoherent keys. Shown only with probe data.
     */
    private static void layerSummary(CheckpointAnalysis r, StringBuilder b, Set<String> shown) {
        if (r.checkpoints().isEmpty()) {
            return;
        }
        CheckpointResult last = r.checkpoints().get(r.checkpoints().size() - 1);
        List<LayerResult> measured = last.layers().stream()
                .filter(l -> l.heads().stream().anyMatch(h -> h.metrics() != null)).toList();
        List<String> fields = LAYER_SUMMARY.stream().filter(f -> measured.stream().anyMatch(l -> l.heads().stream()
                .anyMatch(h -> Double.isFinite(CheckpointAnalysis.value(h, f))))).toList();
        if (fields.isEmpty()) {
            return;
        }
        b.append("<h2>Layers at a glance</h2>\n<p class=\"muted\">Median over each layer's heads at ")
                .append(esc(last.label())).append(": participation near 1 and keyCoherence near 1 mean the energy")
                .append(" field spreads over key positions because no key position is special.</p>\n")
                .append("<div class=\"scroll\"><table><tr><th class=\"l\">layer</th><th>heads</th>");
        for (String f : fields) {
            b.append(columnHeader(f));
            shown.add(f);
        }
        b.append("</tr>\n");
        for (LayerResult l : measured) {
            b.append("<tr><td class=\"l\">").append(esc(l.layer())).append("</td><td>").append(l.heads().size())
                    .append("</td>");
            for (String f : fields) {
                double median = median(l.heads().stream().mapToDouble(h -> CheckpointAnalysis.value(h, f)).toArray());
                b.append("<td>").append(Num.format(median)).append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</table></div>\n");
    }

    /** A metric's column header: its name, linked to the glossary, with its definition and healthy range as tooltip. */
    private static String columnHeader(String field) {
        Glossary.Entry e = Glossary.of(field);
        return "<th title=\"" + esc(e.definition() + ". Healthy: " + e.healthy() + ".") + "\"><a href=\"#g-"
                + esc(field) + "\">" + wrappable(field) + "</a></th>";
    }

    private static void headTable(LayerResult l, List<String> fields, Map<HeadKey, List<Firing>> now,
                                  Map<HeadKey, Set<String>> resolved, boolean withAlerts, StringBuilder b) {
        if (fields.isEmpty()) {
            return;
        }
        b.append("<div class=\"scroll\"><table><tr><th>head</th>");
        if (withAlerts) {
            b.append("<th class=\"l\">alerts</th>");
        }
        for (String f : fields) {
            b.append(columnHeader(f));
        }
        b.append("</tr>\n");
        for (HeadResult h : l.heads()) {
            HeadKey key = new HeadKey(l.layer(), h.head());
            List<Firing> firing = now.getOrDefault(key, List.of());
            b.append(firing.isEmpty() ? "<tr>" : "<tr class=\"flag\">").append("<td>").append(h.head()).append("</td>");
            if (withAlerts) {
                b.append("<td class=\"l\">");
                firing.stream().map(f -> badge(f.rule(), f.severity())).distinct().forEach(b::append);
                Set<String> earlier = resolved.getOrDefault(key, Set.of());
                if (!earlier.isEmpty()) {
                    b.append("<span class=\"muted\">earlier: ").append(esc(String.join(", ", earlier))).append("</span>");
                }
                b.append("</td>");
            }
            fields.forEach(f -> b.append("<td>").append(Num.format(CheckpointAnalysis.value(h, f))).append("</td>"));
            b.append("</tr>\n");
        }
        b.append("</table></div>\n");
    }

    /**
     * One head's heat maps and singular values at a time, chosen with radio buttons and {@code :checked}
     * (no script): the maps of every head appear in the same place, so flipping between heads compares them,
     * and a layer of many heads with large token-labelled maps does not make the page endless.
     */
    private static void picker(int layerIndex, LayerResult l, Map<HeadKey, List<Firing>> now, List<String> tokens,
                               StringBuilder b) {
        List<HeadResult> heads = l.heads().stream().filter(h -> h.plots() != null).toList();
        if (heads.isEmpty()) {
            return;
        }
        boolean data = heads.stream().anyMatch(h -> h.plots().attention() != null);
        boolean labelled = heads.stream().anyMatch(h -> h.plots().attention() != null
                && h.plots().attention().length == tokens.size());
        b.append("<p class=\"muted\">").append(data ? "Attention A and energy field E of the first probe sequence"
                        + (labelled ? ", labelled with its tokens" : "") + ", and the singular values; pick a head:"
                        : "Singular values of each head's tau Wq^T Wk; pick a head:").append("</p>\n<div class=\"picker\">");
        HeadResult initial = heads.stream().filter(h -> now.containsKey(new HeadKey(l.layer(), h.head()))).findFirst()
                .orElse(heads.get(0));
        for (HeadResult h : heads) {
            String id = "pick-" + layerIndex + "-" + h.head();
            b.append("<input type=\"radio\" name=\"pick-").append(layerIndex).append("\" id=\"").append(id).append('"')
                    .append(h == initial ? " checked" : "").append("><label for=\"").append(id).append('"')
                    .append(now.containsKey(new HeadKey(l.layer(), h.head())) ? " class=\"flag\"" : "").append(">head ")
                    .append(h.head()).append("</label>");
        }
        for (HeadResult h : heads) {
            b.append("<div class=\"panel\"><div class=\"charts\">").append(String.join("", plots(l.layer(), h, tokens)))
                    .append("</div></div>");
        }
        b.append("</div>\n");
    }

    private static List<String> plots(String layer, HeadResult h, List<String> tokens) {
        HeadPlots p = h.plots();
        List<String> charts = new ArrayList<>();
        String name = layer + " head " + h.head();
        if (p.attention() != null) {
            Optional.ofNullable(Charts.heatMap(name + ": attention A", p.attention(), false, tokens))
                    .ifPresent(png -> charts.add(img(png, name + " attention")));
        }
        if (p.energy() != null) {
            Optional.ofNullable(Charts.heatMap(name + ": energy field E", p.energy(), true, tokens))
                    .ifPresent(png -> charts.add(img(png, name + " energy field")));
        }
        Optional.ofNullable(Charts.spectrum(p.ofEnergy() ? "singular values of E" : "singular values of tau Wq^T Wk",
                p.singularValues(), rankBound(h))).ifPresent(png -> charts.add(img(png, name + " singular values")));
        return charts;
    }

    /**
     * The bound drawn on a head's spectrum: {@code rankBound} for E (METRICS.md item 6; none for CAUSAL, where
     * the mask breaks it), the head dimension for {@code tau Wq^T Wk}, whose rank never exceeds it.
     */
    static OptionalInt rankBound(HeadResult h) {
        double bound = h.plots() != null && !h.plots().ofEnergy() ? h.d()
                : h.metrics() == null ? Double.NaN : h.metrics().get(HeadField.RANK_BOUND);
        return Double.isFinite(bound) && bound > 0 ? OptionalInt.of((int) bound) : OptionalInt.empty();
    }

    private static void checkpoints(CheckpointAnalysis r, StringBuilder b) {
        if (r.checkpoints().isEmpty()) {
            return;
        }
        b.append("<h2>Checkpoints</h2><div class=\"scroll\"><table><tr><th class=\"l\">checkpoint</th><th>iteration</th>")
                .append("<th>epoch</th><th class=\"l\">format</th><th>attention layers</th><th>heads</th>")
                .append("<th class=\"l\">skipped layers</th></tr>\n");
        for (CheckpointResult c : r.checkpoints()) {
            int heads = c.layers().stream().mapToInt(l -> l.heads().size()).sum();
            List<String> skipped = c.skipped().stream().map(s -> esc(s.layer()) + ": " + esc(s.reason())).toList();
            b.append("<tr><td class=\"l\">").append(esc(c.label())).append("</td><td>")
                    .append(c.iteration() < 0 ? "" : c.iteration()).append("</td><td>")
                    .append(c.epoch() < 0 ? "" : c.epoch()).append("</td><td class=\"l\">").append(esc(c.format()))
                    .append("</td><td>").append(c.layers().size()).append("</td><td>").append(heads)
                    .append("</td><td class=\"l\">").append(String.join("<br>", skipped)).append("</td></tr>\n");
        }
        b.append("</table></div>\n");
    }

    private static void glossary(StringBuilder b, Set<String> shown) {
        if (shown.isEmpty()) {
            return;
        }
        b.append("<h2 id=\"glossary\">Glossary</h2><p class=\"muted\">Definitions in METRICS.md; healthy ranges")
                .append(" from the default alert rules.</p><dl class=\"glossary\">\n");
        for (String f : CheckpointAnalysis.fieldNames()) {
            if (shown.contains(f)) {
                Glossary.Entry e = Glossary.of(f);
                b.append("<dt id=\"g-").append(esc(f)).append("\">").append(esc(f)).append("</dt><dd>")
                        .append(esc(e.definition())).append(". <i>Healthy:</i> ").append(esc(e.healthy())).append(".</dd>\n");
            }
        }
        b.append("</dl>\n");
    }

    /** The picker's rules, as many as the widest layer has heads: the k-th radio button, checked, shows the k-th panel. */
    private static String pickerCss(CheckpointAnalysis r) {
        int heads = r.checkpoints().stream().flatMap(c -> c.layers().stream()).mapToInt(l -> l.heads().size()).max().orElse(0);
        if (heads == 0) {
            return "";
        }
        StringBuilder css = new StringBuilder();
        for (int k = 1; k <= heads; k++) {
            css.append(k == 1 ? "" : ",").append(".picker>input:nth-of-type(").append(k).append("):checked~.panel:nth-of-type(")
                    .append(k).append(")");
        }
        return css.append("{display:block}\n").toString();
    }

    /** A camelCase field name that may break before each capital, so long names do not widen their column. */
    private static String wrappable(String field) {
        return esc(field).replaceAll("(?<=[a-z])(?=[A-Z])", "<wbr>");
    }

    private static String img(String base64, String alt) {
        return "<img src=\"data:image/png;base64," + base64 + "\" alt=\"" + esc(alt) + "\">";
    }

    /** HTML-escapes text for element content and double-quoted attributes. */
    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    if (Character.isISOControl(c) && c != '\n' && c != '\t') {
                        out.append("&#xFFFD;");
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
