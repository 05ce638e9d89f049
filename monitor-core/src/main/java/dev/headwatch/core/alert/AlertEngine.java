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
import java.util.Set;
import java.util.TreeSet;
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
 * pair of heads, and the heads that firing pairs link are one finding naming them all, which goes on
 * ({@link AlertState#CHANGED}) when a head joins or leaves it. Each transition becomes an {@link AlertEvent}:
 * logged (WARN when a WARNING or CRITICAL rule fires, INFO otherwise), handed to every
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
    private final Map<PairKey, RuleState> pairStates = new LinkedHashMap<>();
    /** REDUNDANT_HEAD's firing groups, in the order they fired. */
    private final List<Group> groups = new ArrayList<>();
    /** What fires now, in the order it fired: by {@link FiringKey} for a rule on a head, by {@link Group}. */
    private final Map<Object, FiringAlert> firing = new LinkedHashMap<>();
    private final AtomicLong listenerFailures = new AtomicLong();
    private final RunningMedian lossBaseline;
    private volatile List<FiringAlert> firingSnapshot = List.of();

    private record HeadKey(String layer, int head) {
    }

    /** A rule on a head. */
    private record FiringKey(String alert, String layer, int head) {
    }

    /** A pair of heads of a layer, {@code head < partner}: REDUNDANT_HEAD's streaks are counted per pair. */
    private record PairKey(String layer, int head, int partner) {
    }

    /** A firing REDUNDANT_HEAD finding: heads of one layer linked by firing pairs. */
    private static final class Group {
        final String layer;
        final long sinceStep;
        final Instant since;
        List<Integer> heads;

        Group(String layer, List<Integer> heads, long sinceStep, Instant since) {
            this.layer = layer;
            this.heads = heads;
            this.sinceStep = sinceStep;
            this.since = since;
        }
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
                    AlertEvent event = step(rule, s, c, new FiringKey(rule.name(), record.layer(), record.head()),
                            observation.step(), now);
                    if (event != null) {
                        events.add(event);
                    }
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
     * redundant partner above the threshold, and on every pair with a streak or firing; then the firing pairs
     * are regrouped into findings.
     */
    private void evaluatePairs(Observation observation, Instant now, List<AlertEvent> events) {
        Map<HeadKey, HeadRecord> records = new LinkedHashMap<>();
        for (HeadRecord r : observation.heads()) {
            if (heads.get(new HeadKey(r.layer(), r.head())).observations > config.medianWarmup()) {
                records.put(new HeadKey(r.layer(), r.head()), r);
            }
        }
        List<PairKey> candidates = new ArrayList<>();
        for (HeadRecord r : records.values()) {
            double partner = r.metrics().redundancyPartner();
            if (r.metrics().maxRedundancy() > config.maxRedundancy() && partner >= 0 && partner != r.head()
                    && records.containsKey(new HeadKey(r.layer(), (int) partner))) {
                int g = (int) partner;
                PairKey key = new PairKey(r.layer(), Math.min(r.head(), g), Math.max(r.head(), g));
                if (!candidates.contains(key)) {
                    candidates.add(key);
                }
            }
        }
        for (PairKey key : pairStates.keySet()) {
            if (!candidates.contains(key)) {
                candidates.add(key);
            }
        }
        Map<PairKey, Rule.Check> checks = new HashMap<>();
        for (PairKey key : candidates) {
            HeadRecord a = records.get(new HeadKey(key.layer(), key.head()));
            HeadRecord b = records.get(new HeadKey(key.layer(), key.partner()));
            if (a == null || b == null) {
                continue;
            }
            RuleState s = pairStates.computeIfAbsent(key, k -> new RuleState());
            Rule.Check c = BuiltInRules.redundantPair(a, b, config);
            count(s, c, observation.step(), now);
            checks.put(key, c);
            if (!s.firing && s.held == 0) {
                pairStates.remove(key);
            }
        }
        regroup(observation.step(), now, checks, events);
    }

    /**
     * Makes the firing pairs one finding per group of heads they link. A group keeps those of its heads
     * that still have a firing pair, so it fires once however its heads come and go: a head that joins or
     * leaves, or groups that merge, make one {@link AlertState#CHANGED} event; a group left without a firing
     * pair resolves.
     */
    private void regroup(long step, Instant now, Map<PairKey, Rule.Check> checks, List<AlertEvent> events) {
        Map<PairKey, Rule.Check> firingPairs = new LinkedHashMap<>();
        pairStates.forEach((p, s) -> {
            if (s.firing) {
                firingPairs.put(p, s.last);
            }
        });
        // Union-find over the heads of firing pairs; a group's heads stay linked while each has a firing pair.
        Map<HeadKey, HeadKey> parent = new LinkedHashMap<>();
        for (PairKey p : firingPairs.keySet()) {
            link(parent, new HeadKey(p.layer(), p.head()), new HeadKey(p.layer(), p.partner()));
        }
        for (Group g : groups) {
            HeadKey first = null;
            for (int h : g.heads) {
                HeadKey k = new HeadKey(g.layer, h);
                if (parent.containsKey(k)) {
                    first = first == null ? k : link(parent, first, k);
                }
            }
        }
        Map<HeadKey, TreeSet<Integer>> components = new LinkedHashMap<>();
        parent.keySet().forEach(k -> components.computeIfAbsent(root(parent, k), r -> new TreeSet<>()).add(k.head()));

        String name = Alert.REDUNDANT_HEAD.name();
        Severity severity = Alert.REDUNDANT_HEAD.severity();
        List<Group> ended = new ArrayList<>(groups);
        components.forEach((root, set) -> {
            String layer = root.layer();
            List<Integer> members = List.copyOf(set);
            List<Group> from = groups.stream()
                    .filter(g -> g.layer.equals(layer) && g.heads.stream().anyMatch(set::contains)).toList();
            ended.removeAll(from);
            List<Rule.Check> pairs = within(layer, set, firingPairs);
            Rule.Check top = strongest(pairs);
            Group g;
            if (from.isEmpty()) {
                g = new Group(layer, members, step, now);
                groups.add(g);
                String what = top.what() + (pairs.size() > 1 ? " (the strongest of " + pairs.size() + " pairs)" : "");
                events.add(new AlertEvent(name, AlertState.FIRING, severity, step, now, layer, members, top.value(),
                        top.threshold(), firedMessage(name, layer, members, step, what, config.persist(),
                        Alert.REDUNDANT_HEAD.advice())));
            } else {
                g = from.get(0); // the oldest: a merged group fires since its first firing
                Set<Integer> before = new TreeSet<>();
                for (Group x : from) {
                    before.addAll(x.heads);
                    if (x != g) {
                        groups.remove(x);
                        firing.remove(x);
                    }
                }
                if (!before.equals(set)) {
                    g.heads = members;
                    List<String> change = new ArrayList<>();
                    set.stream().filter(h -> !before.contains(h)).forEach(h -> change.add("head " + h + " joined"));
                    before.stream().filter(h -> !set.contains(h)).forEach(h -> change.add("head " + h + " left"));
                    events.add(new AlertEvent(name, AlertState.CHANGED, severity, step, now, layer, members,
                            top.value(), top.threshold(), changedMessage(name, layer, members, step, change, g.sinceStep)));
                }
            }
            firing.put(g, new FiringAlert(name, severity, layer, members, g.sinceStep, g.since, top.value(),
                    top.threshold()));
        });
        for (Group g : ended) {
            groups.remove(g);
            firing.remove(g);
            Rule.Check last = strongest(within(g.layer, Set.copyOf(g.heads), checks));
            events.add(new AlertEvent(name, AlertState.RESOLVED, severity, step, now, g.layer, g.heads, last.value(),
                    last.threshold(), resolvedMessage(name, g.layer, g.heads, step, last.what())));
        }
    }

    /** Links two heads' sets; returns {@code a}. */
    private static HeadKey link(Map<HeadKey, HeadKey> parent, HeadKey a, HeadKey b) {
        parent.putIfAbsent(a, a);
        parent.putIfAbsent(b, b);
        parent.put(root(parent, b), root(parent, a));
        return a;
    }

    private static HeadKey root(Map<HeadKey, HeadKey> parent, HeadKey k) {
        HeadKey r = k;
        while (!parent.get(r).equals(r)) {
            r = parent.get(r);
        }
        return r;
    }

    /** The checks of the pairs of this layer whose heads are both among these. */
    private static List<Rule.Check> within(String layer, Set<Integer> heads, Map<PairKey, Rule.Check> checks) {
        List<Rule.Check> out = new ArrayList<>();
        checks.forEach((p, c) -> {
            if (p.layer().equals(layer) && heads.contains(p.head()) && heads.contains(p.partner())) {
                out.add(c);
            }
        });
        return out;
    }

    /** The check with the highest energy correlation (the first when none is defined). */
    private static Rule.Check strongest(List<Rule.Check> checks) {
        if (checks.isEmpty()) {
            return Rule.Check.unknown("energy correlation not measured"); // not expected: a group ends by a check
        }
        Rule.Check top = checks.get(0);
        for (Rule.Check c : checks) {
            if (Double.isNaN(top.value()) || c.value() > top.value()) {
                top = c;
            }
        }
        return top;
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

    /** Counts one check of a rule on a head; returns the transition it causes, if any. */
    private AlertEvent step(Rule rule, RuleState s, Rule.Check c, FiringKey key, long step, Instant now) {
        AlertState transition = count(s, c, step, now);
        List<Integer> head = List.of(key.head());
        if (s.firing && c.verdict() == Rule.Verdict.HOLDS) {
            firing.put(key, new FiringAlert(rule.name(), rule.severity(), key.layer(), head, s.firedStep, s.firedAt,
                    c.value(), c.threshold()));
        }
        if (transition == null) {
            return null;
        }
        String message;
        if (transition == AlertState.FIRING) {
            message = firedMessage(rule.name(), key.layer(), head, step, c.what(), s.held, rule.advice());
        } else {
            firing.remove(key);
            message = resolvedMessage(rule.name(), key.layer(), head, step, c.what());
        }
        return new AlertEvent(rule.name(), transition, rule.severity(), step, now, key.layer(), head, c.value(),
                c.threshold(), message);
    }

    /**
     * Counts one check into its rule's streaks; returns {@link AlertState#FIRING} or
     * {@link AlertState#RESOLVED} when it starts or stops firing, else null.
     */
    private AlertState count(RuleState s, Rule.Check c, long step, Instant now) {
        int persist = config.persist();
        switch (c.verdict()) {
            case HOLDS -> {
                if (!Double.isNaN(c.subject()) && s.last != null && c.subject() != s.last.subject()) {
                    s.held = 0; // the condition moved to another subject: a new streak
                }
                s.held++;
                s.cleared = 0;
                s.last = c;
                // A condition far past its threshold is no noise to wait out (Check.atOnce).
                if (!s.firing && (s.held >= persist || c.atOnce())) {
                    s.firing = true;
                    s.firedStep = step;
                    s.firedAt = now;
                    return AlertState.FIRING;
                }
            }
            case CLEAR -> {
                s.cleared++;
                s.held = 0;
                s.last = c;
                if (s.firing && s.cleared >= persist) {
                    s.firing = false;
                    return AlertState.RESOLVED;
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

    private String firedMessage(String name, String layer, List<Integer> heads, long step, String what, int held,
                                String advice) {
        return String.format("%s on %s %s at step %d: %s for %d observation%s%s", name, layer,
                AlertEvent.describeHeads(heads), step, what, held, held == 1 ? "" : "s",
                advice.isEmpty() ? "" : "; " + advice);
    }

    private static String changedMessage(String name, String layer, List<Integer> heads, long step,
                                         List<String> change, long sinceStep) {
        return String.format("%s on %s now %s at step %d: %s (firing since step %d)", name, layer,
                AlertEvent.describeHeads(heads), step, String.join(", ", change), sinceStep);
    }

    private String resolvedMessage(String name, String layer, List<Integer> heads, long step, String what) {
        int persist = config.persist();
        return String.format("%s resolved on %s %s at step %d: clear for %d observation%s (now %s)", name, layer,
                AlertEvent.describeHeads(heads), step, persist, persist == 1 ? "" : "s", what);
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

    /** WARN for a WARNING or CRITICAL rule firing; INFO for an INFO rule firing and for every other transition. */
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
