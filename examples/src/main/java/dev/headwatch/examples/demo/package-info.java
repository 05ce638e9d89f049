/**
 * The demo: a small GPT-style decoder-only transformer written in SameDiff, trained byte-level on
 * Europarl text with every attention head monitored.
 */
package dev.headwatch.examples.demo;
