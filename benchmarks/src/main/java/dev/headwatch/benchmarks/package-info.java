/** JMH benchmarks: the cost of every metric of one attention layer, against ND4J's own attention. */
package dev.headwatch.benchmarks;
