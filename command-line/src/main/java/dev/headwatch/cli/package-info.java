/**
 * The {@code headwatch} command line: {@link dev.headwatch.cli.Headwatch} (the top command, its exit
 * code convention and where subcommands are registered) and its subcommands, such as
 * {@code qk} (metrics of queries and keys read from {@code .npy} files).
 */
package dev.headwatch.cli;
