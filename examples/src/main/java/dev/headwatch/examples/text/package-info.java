/** Real English text for the examples: the Europarl lines shipped in Lucene's test framework, byte-level encoded. */
package dev.headwatch.examples.text;
