package dev.headwatch.report;

import dev.headwatch.checkpoint.CheckpointAnalysis;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Writes a {@link CheckpointAnalysis} into a directory: {@code report.json}, {@code metrics.csv}, {@code report.html}
 * (any subset). Each file is written to a temporary name in the same directory and moved into place
 * atomically, so a reader never sees a half-written report under the final name.
 *
 * <pre>{@code
 * CheckpointAnalysis report = CheckpointAnalyzer.builder().build().analyze(List.of(checkpointDir));
 * ReportWriter.write(report, Path.of("headwatch-out"));
 * }</pre>
 */
public final class ReportWriter {

    /** The report files. */
    public enum Format {
        JSON("report.json"), CSV("metrics.csv"), HTML("report.html");

        private final String fileName;

        Format(String fileName) {
            this.fileName = fileName;
        }

        /** The file name written in the output directory. */
        public String fileName() {
            return fileName;
        }

        /** Parses {@code json}, {@code csv} or {@code html} (any case). */
        public static Format parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown report format '" + s + "'; expected json, csv or html");
            }
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private ReportWriter() {
    }

    /** Writes every format; returns the files written. */
    public static List<Path> write(CheckpointAnalysis report, Path dir) throws IOException {
        return write(report, dir, EnumSet.allOf(Format.class));
    }

    /** Writes the chosen formats into {@code dir} (created when missing); returns the files written. */
    public static List<Path> write(CheckpointAnalysis report, Path dir, Set<Format> formats) throws IOException {
        if (report == null || dir == null || formats == null) {
            throw new IllegalArgumentException("report, dir and formats must not be null");
        }
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (Format f : EnumSet.copyOf(formats.isEmpty() ? EnumSet.allOf(Format.class) : formats)) {
            Path target = dir.resolve(f.fileName());
            writeAtomically(target, out -> {
                switch (f) {
                    case JSON -> JsonReport.write(report, out);
                    case CSV -> CsvReport.write(report, out);
                    case HTML -> HtmlReport.write(report, out);
                }
            });
            written.add(target);
        }
        return written;
    }

    /** What writes one file's content. */
    @FunctionalInterface
    interface Content {
        void write(Writer out) throws IOException;
    }

    static void writeAtomically(Path target, Content content) throws IOException {
        // A fresh name in the same directory (so the move is a rename); CREATE_NEW keeps the umask's mode.
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        try {
            try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                content.write(out);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
