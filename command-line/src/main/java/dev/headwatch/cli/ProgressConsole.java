package dev.headwatch.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.time.temporal.ChronoUnit;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar (steps, a status such as the loss, time left) with events printed on their own lines above
 * it. On a terminal the bar redraws in place; elsewhere (a CI log, a file) it prints one line per tenth of the
 * work and the events as plain lines, so the output stays readable. Thread-safe: events may come from another
 * thread (the monitor's) than the steps.
 */
public final class ProgressConsole implements AutoCloseable {

    private final ProgressBar bar;
    private final Lines lines;

    private ProgressConsole(ProgressBar bar, Lines lines) {
        this.bar = bar;
        this.lines = lines;
    }

    /**
     * A bar over {@code steps} units (or an open-ended one, with elapsed time only, when {@code steps <= 0}).
     *
     * @param task     the bar's label
     * @param out      where the bar and the events go
     * @param terminal true to redraw the bar in place, false for one line per tenth of the work
     */
    public static ProgressConsole open(String task, long steps, PrintStream out, boolean terminal) {
        Lines lines = new Lines(out, terminal, steps);
        ProgressBarBuilder builder = new ProgressBarBuilder();
        if (steps <= 0) {
            builder.continuousUpdate();   // no steps to count: keep the elapsed time moving
        }
        ProgressBar bar = builder
                .setTaskName(task)
                .setInitialMax(steps > 0 ? steps : -1)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(terminal ? 250 : 1000)
                .setSpeedUnit(ChronoUnit.SECONDS)
                .setConsumer(lines)
                .build();
        return new ProgressConsole(bar, lines);
    }

    /** Sets the work done and the status shown after the bar (e.g. {@code "loss 2.47, 1 head in alert"}). */
    public void step(long done, String status) {
        bar.setExtraMessage(status);
        bar.stepTo(done);
        lines.stepped(bar, done);
    }

    /** Sets the total once it is known (for a bar opened without one). */
    public void total(long steps) {
        bar.maxHint(steps);
    }

    /** Prints {@code line} on its own line, above the bar. */
    public void event(String line) {
        lines.event(line);
    }

    /** Time since the bar started. */
    public Duration elapsed() {
        return bar.getTotalElapsed();
    }

    /** Draws the bar a last time and ends its line. */
    @Override
    public void close() {
        bar.close();
        lines.close();   // the library skips it when the bar closes before its first scheduled redraw
    }

    /** Where the library's rendered bar goes: redrawn in place, or one line per tenth of the work. */
    private static final class Lines extends ConsoleProgressBarConsumer {

        private static final int WIDTH = 100;

        private final PrintStream out;
        private final boolean terminal;
        private final long steps;
        private String last = "";
        private long lastTenth = -1;
        /** The work done at the last step, and at the last bar line printed (without a terminal). */
        private long done = -1;
        private long printedDone = -1;
        private boolean closed;

        Lines(PrintStream out, boolean terminal, long steps) {
            super(out, WIDTH);
            this.out = out;
            this.terminal = terminal;
            this.steps = steps;
        }

        @Override
        public synchronized void accept(String rendered) {
            last = rendered;
            if (terminal) {
                out.print('\r' + rendered);
                out.flush();
            }
        }

        /**
         * After each step: on a terminal the bar is drawn now (so an event printed next redraws the current bar);
         * without one, the bar becomes a line each time a new tenth of the work is done.
         */
        void stepped(ProgressBar bar, long done) {
            long tenth = steps > 0 ? done * 10 / steps : done;
            if (terminal) {
                bar.refresh();   // renders on this thread, into accept()
                return;
            }
            synchronized (this) {
                this.done = done;
            }
            if (tenth == lastTenth) {
                return;
            }
            bar.refresh();
            synchronized (this) {
                lastTenth = tenth;
                out.println(last);
                out.flush();
                printedDone = done;
            }
        }

        synchronized void event(String line) {
            if (terminal && !closed) {
                out.print('\r' + " ".repeat(Math.max(last.length(), 1)) + '\r');
                out.println(line);
                out.print(last);
            } else {
                out.println(line);
            }
            out.flush();
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (terminal) {
                out.println();
            } else if (printedDone < 0 || done != printedDone) {   // the final state, unless a line just showed it
                out.println(last);
            }
            out.flush();
        }
    }
}
