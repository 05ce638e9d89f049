package dev.headwatch.core;

/**
 * Counters of a {@link Monitor} since it was built (a snapshot; read them for health dashboards).
 *
 * @param submitted         steps handed to the monitor
 * @param observations      observations computed and handed to the sinks
 * @param dropped           steps dropped because the background queue was full
 * @param analysisFailures  steps whose metrics could not be computed (an exception, logged once), and layer
 *                          captures that did not fit their layout (logged once per layer, which is then
 *                          no longer observed)
 * @param sinkFailures      sink writes that threw
 * @param disabledSinks     sinks switched off after repeated failures
 * @param nonConverged      factorisations (a head's spectrum or key coherence on one sequence) that did not
 *                          converge, each leaving its fields null while the rest of the step stands
 */
public record MonitorStats(long submitted, long observations, long dropped, long analysisFailures,
                           long sinkFailures, int disabledSinks, long nonConverged) {
}
