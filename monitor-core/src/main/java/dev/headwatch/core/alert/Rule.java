package dev.headwatch.core.alert;

import dev.headwatch.core.HeadRecord;

/** One rule evaluated per head and observation; may keep per-head state in the {@link RuleState}. */
interface Rule {

    String name();

    Severity severity();

    /** What the condition usually means and what helps; may be empty. */
    String advice();

    Check check(HeadRecord record, RuleState state, LayerContext layer);

    /** Whether the condition holds, does not hold, or cannot be told (its inputs are NaN). */
    enum Verdict { HOLDS, CLEAR, UNKNOWN }

    /**
     * One evaluation: the verdict, the value and bound to report, and a short phrase saying what was
     * seen ("entropy 0.04 < 0.1").
     */
    record Check(Verdict verdict, double value, double threshold, String what) {

        static Check holds(double value, double threshold, String what) {
            return new Check(Verdict.HOLDS, value, threshold, what);
        }

        static Check clear(double value, double threshold, String what) {
            return new Check(Verdict.CLEAR, value, threshold, what);
        }

        static Check unknown(String what) {
            return new Check(Verdict.UNKNOWN, Double.NaN, Double.NaN, what);
        }
    }

    /** What a rule may need from the other heads of the layer in the same observation. */
    record LayerContext(double keyCoherenceNoFirstMedian) {
    }
}
