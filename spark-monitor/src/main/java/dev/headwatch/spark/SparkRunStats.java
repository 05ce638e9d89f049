package dev.headwatch.spark;

import java.util.Map;
import java.util.Set;

/**
 * What the driver received.
 *
 * @param observations one per worker per observed iteration
 * @param records      per-head records (what the metrics file holds)
 * @param deliveries   batches received (splits with parameter averaging, task results with shared training)
 * @param workers      the workers that reported: {@code <executor>/p<partition>} for a Spark task, else
 *                     {@code <executor>/<training thread>}
 * @param late         observations that arrived after the driver had published a later iteration
 * @param silent       per known worker, the rounds it sent nothing in (a round is a split with parameter
 *                     averaging, a Spark job otherwise; rounds that brought no record do not count)
 * @param dropped      observations that workers dropped because too many waited for a task to carry them
 *                     (shared training; see {@code Outbox.MAX_PENDING})
 */
public record SparkRunStats(long observations, long records, long deliveries, Set<String> workers, long late,
                            Map<String, Long> silent, long dropped) {
    public SparkRunStats {
        workers = Set.copyOf(workers);
        silent = Map.copyOf(silent);
    }
}
