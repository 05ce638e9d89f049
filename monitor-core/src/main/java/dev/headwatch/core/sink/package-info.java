/** Output sinks for observations: one interface, one method. */
package dev.headwatch.core.sink;
