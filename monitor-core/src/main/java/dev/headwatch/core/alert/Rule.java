package dev.headwatch.core.alert;

import dev.headwatch.core.HeadRecord;

/** One rule evaluated per head and observation; may keep per-head state in the {@link RuleState}. */
interface Rule {

    String name();

    Severity severity();

    /** What the condition usually means and what helps; may be empty. */
    String advice();

    Check check(HeadRecord record, RuleState state, LayerContext layer);

    /** Whether the rule judges a head only after the warm-up ({@link AlertConfig#medianWarmup()}). */
    default boolean warmsUp() {
        return false;
    }

    /**
     * Whether the fire condition holds, the clear condition holds (the healthy side of the hysteresis
     * band), neither (the value is inside the band), or it cannot be told (its inputs are NaN).
     */
    enum Verdict { HOLDS, CLEAR, BETWEEN, UNKNOWN }

    /**
     * One evaluation: the verdict, the value and bound to report, and a short phrase saying what was
     * seen ("entropy 0.04 < 0.1"), the subject the condition holds for (NaN when it has none), and whether it
     * holds so far past its threshold that the rule fires at once, without waiting for {@code persist}.
     */
    record Check(Verdict verdict, double value, double threshold, String what, double subject, boolean atOnce) {

        Check(Verdict verdict, double value, double threshold, String what, double subject) {
            this(verdict, value, threshold, what, subject, false);
        }

        static Check holds(double value, double threshold, String what) {
            return new Check(Verdict.HOLDS, value, threshold, what, Double.NaN);
        }

        /** Holds so far past the threshold that the rule fires on this observation. */
        static Check holdsAtOnce(double value, double threshold, String what) {
            return new Check(Verdict.HOLDS, value, threshold, what, Double.NaN, true);
        }

        /** Holds for a particular subject (a key position): a streak continues only on the same subject. */
        static Check holdsAt(double subject, double value, double threshold, String what) {
            return new Check(Verdict.HOLDS, value, threshold, what, subject);
        }

        static Check clear(double value, double threshold, String what) {
            return new Check(Verdict.CLEAR, value, threshold, what, Double.NaN);
        }

        /** Inside the band: neither fires nor clears, and breaks both streaks. */
        static Check between(double value, double threshold, String what) {
            return new Check(Verdict.BETWEEN, value, threshold, what, Double.NaN);
        }

        static Check unknown(String what) {
            return new Check(Verdict.UNKNOWN, Double.NaN, Double.NaN, what, Double.NaN);
        }
    }

    /**
     * What a rule may need beyond its head: the other heads of the layer in the same observation, and the
     * run's training loss.
     *
     * @param keyCoherenceNoFirstMedian the median keyCoherenceNoFirst of the layer's heads
     * @param lossFall                  how far the training loss is below its running median, as a fraction
     *                                  of it (0.3: 30% lower; negative when it rose; NaN when unknown)
     */
    record LayerContext(double keyCoherenceNoFirstMedian, double lossFall) {
    }
}
