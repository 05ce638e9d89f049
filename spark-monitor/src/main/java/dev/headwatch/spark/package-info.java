/**
 * Attention monitoring for DL4J training on Spark: {@link dev.headwatch.spark.SparkHeadwatch} on the driver
 * (sinks, alerts, the stop policy) and the serializable listener it ships to the workers, which compute the
 * metrics and send compact per-head records back.
 */
package dev.headwatch.spark;
