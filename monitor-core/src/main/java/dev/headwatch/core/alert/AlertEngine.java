package dev.headwatch.core.alert;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.sink.ObservationSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * {@code persist} observations in a row and resolves after it did not hold for as many. An observation
 * where the rule's inputs are undefined (NaN) counts neither way. Each transition becomes an
 * {@link AlertEvent}: logged (WARN on fire, INFO on resolve), handed to every {@link AlertListener},
 * and returned by {@link #evaluate}. {@link #firing()} tells what fires now, from any thread.
 *
 * <p>Event times come from the injected {@link Clock}. Evaluation is synchronized: feed the engine from
 * one thread at a time, in step order. A listener that throws is logged and counted, never rethrown.
 */
public final class AlertEngine implements ObservationSink {

    private static final Logger log = LoggerFactory.getLogger(AlertEngine.class);

    private final AlertConfig config;
    private final Clock clock;
    private final List<Rule> rules;
    private final List<AlertListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<HeadKey, RuleState[]> states = new HashMap<>();
    private final Map<FiringKey, FiringAlert> firing = new LinkedHashMap<>();
    private final AtomicLong listenerFailures = new AtomicLong();
    private volatile List<FiringAlert> firingSnapshot = List.of();

    private record HeadKey(String layer, int head) {
    }

    private record FiringKey(String alert, String layer, int head) {
    }

    private AlertEngine(AlertConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        List<Rule> all = new ArrayList<>(BuiltInRules.of(config));
        config.userRules().forEach(r -> all.add(new UserRuleAdapter(r)));
        this.rules = List.copyOf(all);
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
        Map<String, Rule.LayerContext> layers = layerContexts(observation);
        List<AlertEvent> events = new ArrayList<>();
        for (HeadRecord record : observation.heads()) {
            RuleState[] headStates = states.computeIfAbsent(new HeadKey(record.layer(), record.head()), k -> newStates());
            for (int i = 0; i < rules.size(); i++) {
                AlertEvent event = step(rules.get(i), headStates[i], record, layers.get(record.layer()),
                        observation.step(), now);
                if (event != null) {
                    events.add(event);
                }
            }
        }
        firingSnapshot = List.copyOf(firing.values());
        for (AlertEvent event : events) {
            publish(event);
        }
        return events;
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

    private RuleState[] newStates() {
        RuleState[] s = new RuleState[rules.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = new RuleState();
        }
        return s;
    }

    private AlertEvent step(Rule rule, RuleState s, HeadRecord r, Rule.LayerContext layer, long step, Instant now) {
        Rule.Check c = rule.check(r, s, layer);
        int persist = config.persist();
        FiringKey key = new FiringKey(rule.name(), r.layer(), r.head());
        switch (c.verdict()) {
            case HOLDS -> {
                if (!Double.isNaN(c.subject()) && s.last != null && c.subject() != s.last.subject()) {
                    s.held = 0; // the condition moved to another subject: a new streak
                }
                s.held++;
                s.cleared = 0;
                s.last = c;
                if (s.firing) {
                    firing.put(key, new FiringAlert(rule.name(), rule.severity(), r.layer(), r.head(),
                            s.firedStep, s.firedAt, c.value(), c.threshold()));
                } else if (s.held >= persist) {
                    s.firing = true;
                    s.firedStep = step;
                    s.firedAt = now;
                    firing.put(key, new FiringAlert(rule.name(), rule.severity(), r.layer(), r.head(), step, now,
                            c.value(), c.threshold()));
                    String message = String.format("%s on %s head %d at step %d: %s for %d observation%s%s",
                            rule.name(), r.layer(), r.head(), step, c.what(), persist, persist == 1 ? "" : "s",
                            rule.advice().isEmpty() ? "" : "; " + rule.advice());
                    return new AlertEvent(rule.name(), AlertState.FIRING, rule.severity(), step, now, r.layer(),
                            r.head(), c.value(), c.threshold(), message);
                }
            }
            case CLEAR -> {
                s.cleared++;
                s.held = 0;
                s.last = c;
                if (s.firing && s.cleared >= persist) {
                    s.firing = false;
                    firing.remove(key);
                    String message = String.format("%s resolved on %s head %d at step %d: clear for %d observation%s"
                            + " (now %s)", rule.name(), r.layer(), r.head(), step, persist, persist == 1 ? "" : "s",
                            c.what());
                    return new AlertEvent(rule.name(), AlertState.RESOLVED, rule.severity(), step, now, r.layer(),
                            r.head(), c.value(), c.threshold(), message);
                }
            }
            case UNKNOWN -> {
                // Undefined inputs neither extend nor break a streak.
            }
        }
        return null;
    }

    private static Map<String, Rule.LayerContext> layerContexts(Observation observation) {
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
            contexts.put(layer, new Rule.LayerContext(m.median()));
        });
        return contexts;
    }

    private void publish(AlertEvent event) {
        if (event.state() == AlertState.FIRING) {
            log.warn(event.message());
        } else {
            log.info(event.message());
        }
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
