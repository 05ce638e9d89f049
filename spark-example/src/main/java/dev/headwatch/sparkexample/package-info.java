/**
 * {@code headwatch example spark}: a SelfAttentionLayer network trained on a local Spark master with each
 * DL4J training master, watched by {@link dev.headwatch.spark.SparkHeadwatch}.
 */
package dev.headwatch.sparkexample;
