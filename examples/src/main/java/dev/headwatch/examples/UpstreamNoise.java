package dev.headwatch.examples;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * SameDiff (ND4J 1.0.0-M2.1) prints one "Added differentiated op" line per op on stdout while it builds a
 * gradient function, which DL4J's attention layers do at their first {@code fit()}: upstream noise, kept off
 * the examples' consoles.
 */
public final class UpstreamNoise {

    private UpstreamNoise() {
    }

    /** Runs {@code work} with stdout discarded, and gives its result. */
    public static <T> T mutedResult(Supplier<T> work) {
        PrintStream out = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            return work.get();
        } finally {
            System.setOut(out);
        }
    }

    /** Runs {@code work} with stdout discarded. */
    public static void muted(Runnable work) {
        mutedResult(() -> {
            work.run();
            return null;
        });
    }
}
