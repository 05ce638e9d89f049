/**
 * File formats shared by the command line and the examples: {@link dev.headwatch.io.Npy} reads and
 * writes NumPy {@code .npy} arrays.
 */
package dev.headwatch.io;
