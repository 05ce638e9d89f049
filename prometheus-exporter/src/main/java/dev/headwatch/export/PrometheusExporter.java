package dev.headwatch.export;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.MonitorStats;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.FiringAlert;
import dev.headwatch.core.LayerSpread;
import dev.headwatch.core.sink.ObservationSink;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Serves the latest observation on an HTTP {@code /metrics} endpoint in the Prometheus text format.
 * Attach it as a sink; each observation overwrites the gauges, and Prometheus samples them at its
 * scrape interval.
 *
 * <table>
 *   <caption>Exported series</caption>
 *   <tr><td>{@code headwatch_head_<metric>{layer, head}}</td><td>every METRICS.md per-head field,
 *       snake_case ({@code headwatch_head_entropy}, {@code headwatch_head_max_logit}, ...); NaN where
 *       undefined</td></tr>
 *   <tr><td>{@code headwatch_layer_<metric>{layer, stat}}</td><td>{@code stat} = {@code min},
 *       {@code median}, {@code max} over the layer's heads ({@link LayerSpread})</td></tr>
 *   <tr><td>{@code headwatch_head_qk_spectral_norm{layer, head}}</td><td>the weight-only
 *       {@code qkSpectralNorm}, when the listener computes it</td></tr>
 *   <tr><td>{@code headwatch_head_keys{layer, head}}</td><td>the visible key positions m (n, or the
 *       padded length)</td></tr>
 *   <tr><td>{@code headwatch_alert_firing{alert, layer, head}}</td><td>with
 *       {@link Builder#alerts(AlertEngine)}: 1 while the alert fires on the head, 0 once it resolved</td></tr>
 *   <tr><td>{@code headwatch_step}, {@code headwatch_epoch}</td><td>of the latest observation</td></tr>
 *   <tr><td>{@code headwatch_observations_total}</td><td>observations computed (with
 *       {@link #stats(Supplier)}), else observations this exporter received</td></tr>
 *   <tr><td>{@code headwatch_submitted_steps_total}, {@code headwatch_dropped_observations_total},
 *       {@code headwatch_analysis_failures_total}, {@code headwatch_sink_failures_total},
 *       {@code headwatch_disabled_sinks}</td><td>the pipeline's counters, with {@link #stats(Supplier)}</td></tr>
 * </table>
 *
 * <p>The server binds to {@code 127.0.0.1:9464} by default, so nothing is exposed beyond the machine
 * unless asked for. {@link #close()} stops it.
 */
public final class PrometheusExporter implements ObservationSink {

    /** The default port (the one OpenTelemetry's Prometheus exporter uses). */
    public static final int DEFAULT_PORT = 9464;
    /** The default address: loopback only. */
    public static final String DEFAULT_ADDRESS = "127.0.0.1";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Map<HeadField, Gauge> headGauges = new EnumMap<>(HeadField.class);
    private final Map<HeadField, Gauge> layerGauges = new EnumMap<>(HeadField.class);
    private final Gauge qkSpectralNorm;
    private final Gauge keys;
    private final Gauge step;
    private final Gauge epoch;
    private final AtomicLong received = new AtomicLong();
    private volatile Supplier<MonitorStats> stats;
    private final HTTPServer server;

    /** Every (alert, layer, head) that fired since the start: a resolved one reads 0, not absent. */
    private record AlertKey(String alert, String layer, String head) {
    }

    private PrometheusExporter(Builder b) throws IOException {
        for (HeadField f : HeadField.values()) {
            headGauges.put(f, Gauge.builder().name(MetricNames.head(f))
                    .help("headwatch per-head metric " + f.fieldName() + " (METRICS.md)")
                    .labelNames("layer", "head").register(registry));
        }
        for (HeadField f : LayerSpread.FIELDS) {
            layerGauges.put(f, Gauge.builder().name(MetricNames.layer(f))
                    .help("min, median and max of " + f.fieldName() + " over the heads of a layer")
                    .labelNames("layer", "stat").register(registry));
        }
        qkSpectralNorm = Gauge.builder().name(MetricNames.QK_SPECTRAL_NORM)
                .help("headwatch weight-only metric qkSpectralNorm (METRICS.md)")
                .labelNames("layer", "head").register(registry);
        keys = Gauge.builder().name(MetricNames.KEYS)
                .help("visible key positions of the head's sequences (n, or the padded length)")
                .labelNames("layer", "head").register(registry);
        if (b.alerts != null) {
            registerAlertStates(b.alerts);
        }
        step = Gauge.builder().name("headwatch_step").help("step of the latest observation").register(registry);
        epoch = Gauge.builder().name("headwatch_epoch").help("epoch of the latest observation").register(registry);
        CounterWithCallback.builder().name("headwatch_observations")
                .help("observations computed by the monitor (or received by this exporter without its stats)")
                .callback(cb -> {
                    Supplier<MonitorStats> s = stats;
                    cb.call(s == null ? received.get() : s.get().observations());
                })
                .register(registry);
        statsCounter("headwatch_submitted_steps", "steps handed to the monitor", MonitorStats::submitted);
        statsCounter("headwatch_dropped_observations", "steps dropped because the background queue was full",
                MonitorStats::dropped);
        statsCounter("headwatch_analysis_failures", "steps whose metrics could not be computed",
                MonitorStats::analysisFailures);
        statsCounter("headwatch_sink_failures", "sink writes that threw", MonitorStats::sinkFailures);
        statsCounter("headwatch_non_converged_factorisations",
                "factorisations that did not converge, each leaving a head's fields undefined", MonitorStats::nonConverged);
        GaugeWithCallback.builder().name("headwatch_disabled_sinks")
                .help("sinks switched off after repeated failures")
                .callback(cb -> {
                    Supplier<MonitorStats> s = stats;
                    if (s != null) {
                        cb.call(s.get().disabledSinks());
                    }
                })
                .register(registry);
        server = HTTPServer.builder().hostname(b.address).port(b.port).registry(registry).buildAndStart();
    }

    private void statsCounter(String name, String help, ToDoubleFunction<MonitorStats> value) {
        CounterWithCallback.builder().name(name).help(help)
                .callback(cb -> {
                    Supplier<MonitorStats> s = stats;
                    if (s != null) {
                        cb.call(value.applyAsDouble(s.get()));
                    }
                })
                .register(registry);
    }

    private void registerAlertStates(AlertEngine engine) {
        Set<AlertKey> seen = ConcurrentHashMap.newKeySet();
        GaugeWithCallback.builder().name(MetricNames.ALERT_FIRING)
                .help("1 while a headwatch alert fires on a head, 0 after it resolved")
                .labelNames("alert", "layer", "head")
                .callback(callback -> {
                    Set<AlertKey> firing = new HashSet<>();
                    for (FiringAlert f : engine.firing()) {
                        for (int head : f.heads()) { // a finding on a group of heads fires on each of them
                            firing.add(new AlertKey(f.alert(), f.layer(), Integer.toString(head)));
                        }
                    }
                    seen.addAll(firing);
                    for (AlertKey k : seen) {
                        callback.call(firing.contains(k) ? 1 : 0, k.alert(), k.layer(), k.head());
                    }
                })
                .register(registry);
    }

    /** An exporter on the defaults ({@code 127.0.0.1:9464}), started. */
    public static PrometheusExporter start() throws IOException {
        return builder().start();
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The port the server listens on (the ephemeral one chosen when built with port 0). */
    public int port() {
        return server.getPort();
    }

    /**
     * Exports the pipeline's counters, read at each scrape, e.g. {@code exporter.stats(listener::stats)}.
     * Set after the listener is built, since the listener takes this exporter as a sink.
     *
     * @return this exporter
     */
    public PrometheusExporter stats(Supplier<MonitorStats> stats) {
        if (stats == null) {
            throw new IllegalArgumentException("stats supplier must not be null");
        }
        this.stats = stats;
        return this;
    }

    /** The registry behind the endpoint, to add the application's own metrics. */
    public PrometheusRegistry registry() {
        return registry;
    }

    @Override
    public void write(Observation observation) {
        for (HeadRecord r : observation.heads()) {
            String head = Integer.toString(r.head());
            headGauges.forEach((field, gauge) -> gauge.labelValues(r.layer(), head).set(r.metrics().get(field)));
            keys.labelValues(r.layer(), head).set(
                    r.mask().kind() == Visibility.Kind.PADDED ? r.mask().length() : r.n());
            if (!Double.isNaN(r.qkSpectralNorm())) {
                qkSpectralNorm.labelValues(r.layer(), head).set(r.qkSpectralNorm());
            }
        }
        Map<String, Map<HeadField, LayerSpread>> spreads = new HashMap<>();
        for (LayerSpread s : LayerSpread.of(observation)) {
            spreads.computeIfAbsent(s.layer(), k -> new EnumMap<>(HeadField.class)).put(s.field(), s);
        }
        for (HeadRecord r : observation.heads()) {
            spreads.putIfAbsent(r.layer(), new EnumMap<>(HeadField.class));
        }
        spreads.forEach((layer, byField) -> layerGauges.forEach((field, gauge) -> {
            LayerSpread s = byField.get(field);
            // A metric undefined on every head reads NaN rather than keeping an old value.
            gauge.labelValues(layer, "min").set(s == null ? Double.NaN : s.min());
            gauge.labelValues(layer, "median").set(s == null ? Double.NaN : s.median());
            gauge.labelValues(layer, "max").set(s == null ? Double.NaN : s.max());
        }));
        step.set(observation.step());
        epoch.set(observation.epoch());
        received.incrementAndGet();
    }

    /** Stops the HTTP server. */
    @Override
    public void close() {
        server.close();
    }

    /** Configures a {@link PrometheusExporter}; {@link #start()} binds the server. */
    public static final class Builder {
        private String address = DEFAULT_ADDRESS;
        private int port = DEFAULT_PORT;
        private AlertEngine alerts;

        private Builder() {
        }

        /** The address to bind (default {@code 127.0.0.1}; {@code 0.0.0.0} for every interface). */
        public Builder address(String address) {
            if (address == null || address.isBlank()) {
                throw new IllegalArgumentException("address must not be blank but was '" + address + "'");
            }
            this.address = address;
            return this;
        }

        /** The port (default 9464; 0 picks a free one, see {@link PrometheusExporter#port()}). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in [0, 65535] but was " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * Exports this engine's alert states as {@code headwatch_alert_firing}, read at each scrape.
         * The engine must also be fed the observations (it is a sink of the same listener).
         */
        public Builder alerts(AlertEngine engine) {
            if (engine == null) {
                throw new IllegalArgumentException("alert engine must not be null");
            }
            this.alerts = engine;
            return this;
        }

        /** Binds the server and starts serving {@code /metrics}. */
        public PrometheusExporter start() throws IOException {
            return new PrometheusExporter(this);
        }
    }
}
