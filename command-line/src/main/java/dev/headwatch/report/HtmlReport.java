package dev.headwatch.report;

import dev.headwatch.checkpoint.CheckpointAlert;
import dev.headwatch.checkpoint.CheckpointResult;
import dev.headwatch.checkpoint.FailedCheckpoint;
import dev.headwatch.checkpoint.HeadPlots;
import dev.headwatch.checkpoint.HeadResult;
import dev.headwatch.checkpoint.LayerResult;
import dev.headwatch.checkpoint.CheckpointAnalysis;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.WeightField;
import dev.headwatch.core.alert.AlertEvent;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code report.html}: one self-contained page (inline CSS, charts embedded as base64 PNG, no script, no
 * external reference). Sections: summary, unreadable checkpoints, alerts (first firing per rule, every
 * transition), trends across checkpoints, and per layer of the last checkpoint a table of heads (flagged
 * heads marked) with each head's attention and energy heat maps and singular values. Every text that
 * comes from a model or a file (layer names, paths, messages) is escaped.
 */
final class HtmlReport {

    /** Fields drawn as trend charts when they vary across checkpoints. */
    private static final List<String> TREND_FIELDS = List.of(
            WeightField.QK_SPECTRAL_NORM.fieldName(), WeightField.QK_STABLE_RANK.fieldName(),
            HeadField.ENTROPY.fieldName(), HeadField.MAX_LOGIT.fieldName(), HeadField.EFFECTIVE_RANK.fieldName(),
            HeadField.ENERGY_RMS.fieldName(), HeadField.KEY_COHERENCE_NO_FIRST.fieldName(),
            HeadField.SINK_MAX.fieldName(), HeadField.MAX_REDUNDANCY.fieldName());

    private static final String CSS = """
            body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1400px}
            h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
            h3{font-size:15px;margin-top:20px}
            table{border-collapse:collapse;font-size:12px;margin:8px 0}
            th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}
            th{background:#f3f3f3}td.l,th.l{text-align:left;white-space:normal}
            tr.flag td{background:#fde2e1}.badge{color:#fff;background:#c0392b;border-radius:3px;padding:0 4px;margin-right:2px}
            .ok{color:#2e7d32}.bad{color:#c0392b}.scroll{overflow-x:auto}
            .charts{display:flex;flex-wrap:wrap;gap:6px}.charts img{border:1px solid #eee}
            .head{margin:10px 0;padding:6px;border:1px solid #eee}.muted{color:#777}
            """;

    private HtmlReport() {
    }

    static void write(CheckpointAnalysis r, Writer out) throws IOException {
        StringBuilder b = new StringBuilder(1 << 16);
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<title>headwatch report</title><style>").append(CSS).append("</style></head><body>\n");
        summary(r, b);
        failures(r, b);
        alerts(r, b);
        trends(r, b);
        layers(r, b);
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
        if (!r.checkpoints().isEmpty()) {
            b.append("<table><tr><th class=\"l\">checkpoint</th><th>iteration</th><th>epoch</th><th class=\"l\">format</th>")
                    .append("<th>attention layers</th><th>heads</th><th class=\"l\">skipped layers</th></tr>\n");
            for (CheckpointResult c : r.checkpoints()) {
                int heads = c.layers().stream().mapToInt(l -> l.heads().size()).sum();
                List<String> skipped = c.skipped().stream().map(s -> esc(s.layer()) + ": " + esc(s.reason())).toList();
                b.append("<tr><td class=\"l\">").append(esc(c.label())).append("</td><td>")
                        .append(c.iteration() < 0 ? "" : c.iteration()).append("</td><td>")
                        .append(c.epoch() < 0 ? "" : c.epoch()).append("</td><td class=\"l\">").append(esc(c.format()))
                        .append("</td><td>").append(c.layers().size()).append("</td><td>").append(heads)
                        .append("</td><td class=\"l\">").append(String.join("<br>", skipped)).append("</td></tr>\n");
            }
            b.append("</table>\n");
        }
    }

    private static void failures(CheckpointAnalysis r, StringBuilder b) {
        if (r.failed().isEmpty()) {
            return;
        }
        b.append("<h2>Unreadable checkpoints</h2><table><tr><th class=\"l\">checkpoint</th><th class=\"l\">file</th>")
                .append("<th class=\"l\">problem</th></tr>\n");
        for (FailedCheckpoint f : r.failed()) {
            b.append("<tr><td class=\"l\">").append(esc(f.label())).append("</td><td class=\"l\">").append(esc(f.file()))
                    .append("</td><td class=\"l bad\">").append(esc(f.problem())).append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    private static void alerts(CheckpointAnalysis r, StringBuilder b) {
        b.append("<h2>Alerts</h2>");
        b.append("<p class=\"muted\">Each checkpoint is one observation for the alert rules of METRICS.md.</p>");
        b.append("<table><tr><th class=\"l\">rule</th><th class=\"l\">first fires at</th><th class=\"l\">layer</th>")
                .append("<th>head</th><th>value</th><th>threshold</th><th class=\"l\">message</th></tr>\n");
        for (Map.Entry<String, Optional<CheckpointAlert>> e : r.firstFiring().entrySet()) {
            b.append("<tr><td class=\"l\">").append(esc(e.getKey())).append("</td>");
            if (e.getValue().isEmpty()) {
                b.append("<td class=\"l ok\">never</td><td></td><td></td><td></td><td></td><td></td></tr>\n");
                continue;
            }
            AlertEvent ev = e.getValue().get().event();
            b.append("<td class=\"l bad\">").append(esc(e.getValue().get().checkpoint())).append("</td><td class=\"l\">")
                    .append(esc(ev.layer())).append("</td><td>").append(ev.head()).append("</td><td>").append(num(ev.value()))
                    .append("</td><td>").append(num(ev.threshold())).append("</td><td class=\"l\">").append(esc(ev.message()))
                    .append("</td></tr>\n");
        }
        b.append("</table>\n");
        if (!r.alerts().isEmpty()) {
            b.append("<h3>Every transition</h3><div class=\"scroll\"><table><tr><th class=\"l\">checkpoint</th>")
                    .append("<th class=\"l\">rule</th><th class=\"l\">state</th><th class=\"l\">layer</th><th>head</th>")
                    .append("<th>value</th><th>threshold</th></tr>\n");
            for (CheckpointAlert a : r.alerts()) {
                AlertEvent ev = a.event();
                b.append("<tr><td class=\"l\">").append(esc(a.checkpoint())).append("</td><td class=\"l\">")
                        .append(esc(ev.alert())).append("</td><td class=\"l\">").append(esc(ev.state().name()))
                        .append("</td><td class=\"l\">").append(esc(ev.layer())).append("</td><td>").append(ev.head())
                        .append("</td><td>").append(num(ev.value())).append("</td><td>").append(num(ev.threshold()))
                        .append("</td></tr>\n");
            }
            b.append("</table></div>\n");
        }
    }

    private static void trends(CheckpointAnalysis r, StringBuilder b) {
        if (r.checkpoints().size() < 2) {
            return;
        }
        b.append("<h2>Trends across checkpoints</h2>\n");
        // By iteration when every checkpoint knows it and they come in training order, else by position.
        boolean byIteration = true;
        for (int i = 0; i < r.checkpoints().size(); i++) {
            long it = r.checkpoints().get(i).iteration();
            byIteration &= it >= 0 && (i == 0 || it >= r.checkpoints().get(i - 1).iteration());
        }
        double[] x = new double[r.checkpoints().size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = byIteration ? r.checkpoints().get(i).iteration() : i;
        }
        Set<String> layerNames = new LinkedHashSet<>();
        r.heads().forEach(k -> layerNames.add(k.layer()));
        for (String layer : layerNames) {
            List<CheckpointAnalysis.HeadKey> keys = r.heads().stream().filter(k -> k.layer().equals(layer)).toList();
            List<String> charts = new ArrayList<>();
            for (String field : TREND_FIELDS) {
                List<String> names = new ArrayList<>();
                List<double[]> ys = new ArrayList<>();
                for (CheckpointAnalysis.HeadKey k : keys) {
                    names.add("head " + k.head());
                    ys.add(r.trend(k, field));
                }
                String png = Charts.lines(layer + ": " + field, byIteration ? "iteration" : "checkpoint", field, x,
                        names, ys, false);
                if (png != null) {
                    charts.add(img(png, layer + " " + field + " across checkpoints"));
                }
            }
            if (!charts.isEmpty()) {
                b.append("<h3>Layer ").append(esc(layer)).append("</h3><div class=\"charts\">")
                        .append(String.join("", charts)).append("</div>\n");
            }
        }
    }

    private static void layers(CheckpointAnalysis r, StringBuilder b) {
        if (r.checkpoints().isEmpty()) {
            return;
        }
        CheckpointResult last = r.checkpoints().get(r.checkpoints().size() - 1);
        Map<CheckpointAnalysis.HeadKey, List<String>> firing = r.firingAtEnd();
        Map<CheckpointAnalysis.HeadKey, Set<String>> ever = new java.util.HashMap<>();
        for (CheckpointAlert a : r.alerts()) {
            ever.computeIfAbsent(new CheckpointAnalysis.HeadKey(a.event().layer(), a.event().head()), k -> new LinkedHashSet<>())
                    .add(a.event().alert());
        }
        b.append("<h2>Heads at ").append(esc(last.label())).append("</h2>\n");
        for (LayerResult l : last.layers()) {
            b.append("<h3>Layer ").append(esc(l.layer())).append(" <span class=\"muted\">(").append(esc(l.kind()))
                    .append(", ").append(l.heads().size()).append(" heads)</span></h3>\n");
            List<String> fields = new ArrayList<>();
            for (String f : CheckpointAnalysis.fieldNames()) {
                if (l.heads().stream().anyMatch(h -> !Double.isNaN(CheckpointAnalysis.value(h, f)))) {
                    fields.add(f);
                }
            }
            b.append("<div class=\"scroll\"><table><tr><th>head</th><th class=\"l\">alerts</th>");
            fields.forEach(f -> b.append("<th>").append(esc(f)).append("</th>"));
            b.append("</tr>\n");
            for (HeadResult h : l.heads()) {
                CheckpointAnalysis.HeadKey key = new CheckpointAnalysis.HeadKey(l.layer(), h.head());
                List<String> now = firing.getOrDefault(key, List.of());
                Set<String> before = new LinkedHashSet<>(ever.getOrDefault(key, Set.of()));
                before.removeAll(now);
                b.append(now.isEmpty() ? "<tr>" : "<tr class=\"flag\">").append("<td>").append(h.head())
                        .append("</td><td class=\"l\">");
                now.forEach(a -> b.append("<span class=\"badge\">").append(esc(a)).append("</span>"));
                if (!before.isEmpty()) {
                    b.append("<span class=\"muted\">earlier: ").append(esc(String.join(", ", before))).append("</span>");
                }
                b.append("</td>");
                fields.forEach(f -> b.append("<td>").append(num(CheckpointAnalysis.value(h, f))).append("</td>"));
                b.append("</tr>\n");
            }
            b.append("</table></div>\n");
            for (HeadResult h : l.heads()) {
                plots(l.layer(), h, b);
            }
        }
    }

    private static void plots(String layer, HeadResult h, StringBuilder b) {
        HeadPlots p = h.plots();
        if (p == null) {
            return;
        }
        List<String> charts = new ArrayList<>();
        String name = layer + " head " + h.head();
        if (p.attention() != null) {
            String png = Charts.heatMap("attention A", p.attention(), false);
            if (png != null) {
                charts.add(img(png, name + " attention"));
            }
        }
        if (p.energy() != null) {
            String png = Charts.heatMap("energy field E", p.energy(), true);
            if (png != null) {
                charts.add(img(png, name + " energy field"));
            }
        }
        String spectrum = Charts.spectrum(p.ofEnergy() ? "singular values of E" : "singular values of tau Wq^T Wk",
                p.singularValues(), h.d());
        if (spectrum != null) {
            charts.add(img(spectrum, name + " singular values"));
        }
        if (!charts.isEmpty()) {
            b.append("<div class=\"head\"><b>").append(esc(name)).append("</b>")
                    .append(p.attention() != null ? " <span class=\"muted\">(first probe sequence)</span>" : "")
                    .append("<div class=\"charts\">").append(String.join("", charts)).append("</div></div>\n");
        }
    }

    private static String img(String base64, String alt) {
        return "<img src=\"data:image/png;base64," + base64 + "\" alt=\"" + esc(alt) + "\">";
    }

    private static String num(double v) {
        if (Double.isNaN(v)) {
            return "";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return String.valueOf((long) v);
        }
        return String.format(Locale.ROOT, "%.4g", v);
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
