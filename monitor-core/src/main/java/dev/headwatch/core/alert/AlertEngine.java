package dev.headwatch.core.alert;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.sink.ObservationSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Evaluates the rules of an {@link AlertConfig} on every head of every {@link Observation} it is fed
 * (it is an {@link ObservationSink}, so a listener's pipeline can feed it like any other sink).
 *
 * <p>Per head and rule it counts consecutive observations: a rule fires after its condition held for
 * {@code persist} observations in a row and resolves after its clear condition (the healthy side of the
 * rule's hysteresis band) held for as many; a value inside the band breaks both streaks. An observation
 * where the rule's inputs are undefined (NaN) counts neither way. The rules that judge a head's shape wait
 * for the head's warm-up ({@link AlertConfig#medianWarmup()} observations). REDUNDANT_HEAD is judged per
 * pair of heads: one finding naming both. Each transition becomes an {@link AlertEvent}: logged (WARN when a
 * WARNING or CRITICAL rule fires, INFO when an INFO rule fires and on every resolution), handed to every
 * {@link AlertListener}, and returned by {@link #evaluate}. {@link #firing()} tells what fires now, from
 * any thread.
 *
 * <p>Event times come from the injected {@link Clock}. Evaluation is synchronized: feed the engine from
 * one thread at a time, in step order. A listener that throws is logged and counted, never rethrown.
 */
public final class AlertEngine implements ObservationSink {

    private static final Logger log = LoggerFactory.getLogger(AlertEngine.class);

    private final AlertConfig config;
    private final Clock clock;
    private final List<Rule> rules;
    private final boolean pairs;
    private final List<AlertListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<HeadKey, HeadState> heads = new HashMap<>();
    private final Map<FiringKey, RuleState> pairStates = new LinkedHashMap<>();
    private final Map<FiringKey, FiringAlert> firing = new LinkedHashMap<>();
    private final AtomicLong listenerFailures = new AtomicLong();
    private final RunningMedian lossBaseline;
    private volatile List<FiringAlert> firingSnapshot = List.of();

    private record HeadKey(String layer, int head) {
    }

    /** A rule on a head, or on a pair of heads ({@code partner >= 0}). */
    private record FiringKey(String alert, String layer, int head, int partner) {
    }

    /** A head's observation count and its rules' states. */
    private static final class HeadState {
        int observations;
        final RuleState[] rules;

        HeadState(int rules) {
            this.rules = new RuleState[rules];
            for (int i = 0; i < rules; i++) {
                this.rules[i] = new RuleState();
            }
        }
    }

    private AlertEngine(AlertConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        List<Rule> all = new ArrayList<>(BuiltInRules.of(config));
        config.userRules().forEach(r -> all.add(new UserRuleAdapter(r)));
        this.rules = List.copyOf(all);
        this.pairs = config.isEnabled(Alert.REDUNDANT_HEAD);
        this.lossBaseline = new RunningMedian(config.medianWindow());
    }

    /** An engine with the default rules and the system UTC clock. */
    public static AlertEngine withDefaults() {
        return of(AlertConfig.defaults(), Clock.systemUTC());
    }

    /** An engine with these rules, timing events with this clock. */
    public static AlertEngine of(AlertConfig config, Clock clock) {
        if (config == null || clock == null) {
            throw new IllegalArgumentException("config and clock must not be null but were " + config + " and " + clock);
        }
        return new AlertEngine(config, clock);
    }

    /** Adds a callback for every future event; returns this engine. */
    public AlertEngine addListener(AlertListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener must not be null");
        }
        listeners.add(listener);
        return this;
    }

    public AlertConfig config() {
        return config;
    }

    /** Evaluates every rule on every head of the observation; returns the transitions it caused. */
    public synchronized List<AlertEvent> evaluate(Observation observation) {
        Instant now = clock.instant();
        Map<String, Rule.LayerContext> layers = layerContexts(observation, lossFall(observation.loss()));
        List<AlertEvent> events = new ArrayList<>();
        for (HeadRecord record : observation.heads()) {
            HeadState head = heads.computeIfAbsent(new HeadKey(record.layer(), record.head()),
                    k -> new HeadState(rules.size()));
            head.observations++;
            boolean warm = head.observations > config.medianWarmup();
            for (int i = 0; i < rules.size(); i++) {
                Rule rule = rules.get(i);
                RuleState s = head.rules[i];
                Rule.Check c = rule.check(record, s, layers.get(record.layer()));
                if (warm || !rule.warmsUp()) {
                    addIfNotNull(events, step(rule.name(), rule.severity(), rule.advice(), s, c,
                            new FiringKey(rule.name(), record.layer(), record.head(), -1), observation.step(), now));
                }
            }
        }
        if (pairs) {
            evaluatePairs(observation, now, events);
        }
        firingSnapshot = List.copyOf(firing.values());
        for (AlertEvent event : events) {
            publish(event);
        }
        return events;
    }

    /**
     * REDUNDANT_HEAD on every pair of warmed-up heads of a layer that one of them names as its most
     * redundant partner above the threshold, and on every pair with a streak or a firing alert.
     */
    private void evaluatePairs(Observation observation, Instant now, List<AlertEvent> events) {
        Map<HeadKey, HeadRecord> records = new LinkedHashMap<>();
        for (HeadRecord r : observation.heads()) {
            if (heads.get(new HeadKey(r.layer(), r.head())).observations > config.medianWarmup()) {
                records.put(new HeadKey(r.layer(), r.head()), r);
            }
        }
        String name = Alert.REDUNDANT_HEAD.name();
        List<FiringKey> candidates = new ArrayList<>();
        for (HeadRecord r : records.values()) {
            double partner = r.metrics().redundancyPartner();
            if (r.metrics().maxRedundancy() > config.maxRedundancy() && partner >= 0 && partner != r.head()
                    && records.containsKey(new HeadKey(r.layer(), (int) partner))) {
                int g = (int) partner;
                FiringKey key = new FiringKey(name, r.layer(), Math.min(r.head(), g), Math.max(r.head(), g));
                if (!candidates.contains(key)) {
                    candidates.add(key);
                }
            }
        }
        for (FiringKey key : pairStates.keySet()) {
            if (!candidates.contains(key)) {
                candidates.add(key);
            }
        }
        for (FiringKey key : candidates) {
            HeadRecord a = records.get(new HeadKey(key.layer(), key.head()));
            HeadRecord b = records.get(new HeadKey(key.layer(), key.partner()));
            if (a == null || b == null) {
                continue;
            }
            RuleState s = pairStates.computeIfAbsent(key, k -> new RuleState());
            addIfNotNull(events, step(name, Alert.REDUNDANT_HEAD.severity(), Alert.REDUNDANT_HEAD.advice(), s,
                    BuiltInRules.redundantPair(a, b, config), key, observation.step(), now));
            if (!s.firing && s.held == 0) {
                pairStates.remove(key);
            }
        }
    }

    private static void addIfNotNull(List<AlertEvent> events, AlertEvent event) {
        if (event != null) {
            events.add(event);
        }
    }

    /** Same as {@link #evaluate}, as an {@link ObservationSink}. */
    @Override
    public void write(Observation observation) {
        evaluate(observation);
    }

    /** What fires now, in the order it fired; an immutable snapshot, safe to read from any thread. */
    public List<FiringAlert> firing() {
        return firingSnapshot;
    }

    /** Whether any of these alerts (built-in or user rule names) fires now on any head. */
    public boolean isFiring(Collection<String> alerts) {
        for (FiringAlert f : firingSnapshot) {
            if (alerts.contains(f.alert())) {
                return true;
            }
        }
        return false;
    }

    /** Whether any of these built-in alerts fires now on any head. */
    public boolean isFiring(Alert... alerts) {
        return isFiring(Arrays.stream(alerts).map(Alert::name).toList());
    }

    /** How many times a listener threw. */
    public long listenerFailures() {
        return listenerFailures.get();
    }

    /** Counts one check into its rule's streaks; returns the transition it causes, if any. */
    private AlertEvent step(String name, Severity severity, String advice, RuleState s, Rule.Check c, FiringKey key,
                            long step, Instant now) {
        int persist = config.persist();
        String heads = key.partner() < 0 ? "head " + key.head() : "heads " + key.head() + " and " + key.partner();
        switch (c.verdict()) {
            case HOLDS -> {
                if (!Double.isNaN(c.subject()) && s.last != null && c.subject() != s.last.subject()) {
                    s.held = 0; // the condition moved to another subject: a new streak
                }
                s.held++;
                s.cleared = 0;
                s.last = c;
                if (s.firing) {
                    firing.put(key, new FiringAlert(name, severity, key.layer(), key.head(), s.firedStep, s.firedAt,
                            c.value(), c.threshold(), key.partner()));
                } else if (s.held >= persist) {
                    s.firing = true;
                    s.firedStep = step;
                    s.firedAt = now;
                    firing.put(key, new FiringAlert(name, severity, key.layer(), key.head(), step, now,
                            c.value(), c.threshold(), key.partner()));
                    String message = String.format("%s on %s %s at step %d: %s for %d observation%s%s", name,
                            key.layer(), heads, step, c.what(), persist, persist == 1 ? "" : "s",
                            advice.isEmpty() ? "" : "; " + advice);
                    return new AlertEvent(name, AlertState.FIRING, severity, step, now, key.layer(), key.head(),
                            c.value(), c.threshold(), message, key.partner());
                }
            }
            case CLEAR -> {
                s.cleared++;
                s.held = 0;
                s.last = c;
                if (s.firing && s.cleared >= persist) {
                    s.firing = false;
                    firing.remove(key);
                    String message = String.format("%s resolved on %s %s at step %d: clear for %d observation%s"
                            + " (now %s)", name, key.layer(), heads, step, persist, persist == 1 ? "" : "s", c.what());
                    return new AlertEvent(name, AlertState.RESOLVED, severity, step, now, key.layer(), key.head(),
                            c.value(), c.threshold(), message, key.partner());
                }
            }
            case BETWEEN -> {
                // Inside the hysteresis band: neither fires nor clears, and both streaks start over.
                s.held = 0;
                s.cleared = 0;
                s.last = c;
            }
            case UNKNOWN -> {
                // Undefined inputs neither extend nor break a streak.
            }
        }
        return null;
    }

    /**
     * How far this loss is below the running median of the losses before it (a fraction of the median);
     * NaN until the median has {@code medianWarmup} values, and for a loss that is not finite or a median
     * that is not positive.
     */
    private double lossFall(double loss) {
        if (!Double.isFinite(loss)) {
            return Double.NaN;
        }
        double median = lossBaseline.size() >= config.medianWarmup() ? lossBaseline.median() : Double.NaN;
        lossBaseline.add(loss);
        return median > 0 ? 1 - loss / median : Double.NaN;
    }

    private static Map<String, Rule.LayerContext> layerContexts(Observation observation, double lossFall) {
        Map<String, List<Double>> coherence = new HashMap<>();
        for (HeadRecord r : observation.heads()) {
            List<Double> values = coherence.computeIfAbsent(r.layer(), k -> new ArrayList<>());
            double kc = r.metrics().keyCoherenceNoFirst();
            if (Double.isFinite(kc)) {
                values.add(kc);
            }
        }
        Map<String, Rule.LayerContext> contexts = new HashMap<>();
        coherence.forEach((layer, values) -> {
            RunningMedian m = new RunningMedian(Math.max(1, values.size()));
            values.forEach(m::add);
            contexts.put(layer, new Rule.LayerContext(m.median(), lossFall));
        });
        return contexts;
    }

    /** WARN for a WARNING or CRITICAL rule firing; INFO for an INFO rule firing and for every resolution. */
    static Level logLevel(AlertEvent event) {
        return event.state() == AlertState.FIRING && event.severity() != Severity.INFO ? Level.WARN : Level.INFO;
    }

    private void publish(AlertEvent event) {
        log.atLevel(logLevel(event)).log(event.message());
        for (AlertListener listener : listeners) {
            try {
                listener.onAlert(event);
            } catch (Exception | LinkageError e) {
                if (listenerFailures.getAndIncrement() == 0) {
                    log.warn("alert listener {} failed; further failures are logged at DEBUG", listener, e);
                } else {
                    log.debug("alert listener {} failed", listener, e);
                }
            }
        }
    }

    /** A user rule as a {@link Rule}: a condition that throws counts as undefined. */
    private static final class UserRuleAdapter implements Rule {
        private final UserRule rule;
        private boolean failureLogged;

        UserRuleAdapter(UserRule rule) {
            this.rule = rule;
        }

        @Override public String name() { return rule.name(); }
        @Override public Severity severity() { return rule.severity(); }
        @Override public String advice() { return rule.advice(); }

        @Override
        public Check check(dev.headwatch.core.HeadRecord record, RuleState state, LayerContext layer) {
            double value = record.metrics().get(rule.field());
            String what = rule.field().fieldName() + " " + BuiltInRules.f(value)
                    + (Double.isNaN(rule.threshold()) ? "" : " (bound " + BuiltInRules.f(rule.threshold()) + ")");
            boolean holds;
            try {
                holds = rule.condition().holds(record.metrics());
            } catch (RuntimeException e) {
                if (!failureLogged) {
                    failureLogged = true;
                    log.warn("alert rule {} threw; treating its condition as undefined", rule.name(), e);
                }
                return Check.unknown(what);
            }
            return holds ? Check.holds(value, rule.threshold(), what) : Check.clear(value, rule.threshold(), what);
        }
    }
}
