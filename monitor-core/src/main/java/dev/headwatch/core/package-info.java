/**
 * Value types shared by every part of headwatch: the input of one head ({@link dev.headwatch.core.HeadInput}),
 * its metrics ({@link dev.headwatch.core.HeadMetrics}, fields named by {@link dev.headwatch.core.HeadField})
 * and what one training step produced ({@link dev.headwatch.core.Observation}).
 */
package dev.headwatch.core;
