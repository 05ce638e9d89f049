/** JMH benchmarks: one head's kernels, one observation of the bench's model, and every metric of one attention layer against ND4J's own attention. */
package dev.headwatch.benchmarks;
