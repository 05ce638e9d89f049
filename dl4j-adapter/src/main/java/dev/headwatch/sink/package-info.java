/** File outputs of the adapter: JSON Lines, CSV and the alert log. */
package dev.headwatch.sink;
