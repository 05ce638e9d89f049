package dev.headwatch.sink;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.sink.ObservationSink;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * CSV with the columns of the JSON Lines sink ({@code step, epoch, layer, head, n, d, mask, time}, then
 * every metric by name); undefined values are empty cells. The header is written when the file is new or
 * empty. Flushed per observation, whole rows only.
 */
public final class CsvSink implements ObservationSink {

    private final Writer out;

    private CsvSink(Writer out) {
        this.out = out;
    }

    /** Appends to {@code file}, creating it (and its parent directories) with a header when missing or empty. */
    public static CsvSink open(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        boolean fresh = !Files.exists(file) || Files.size(file) == 0;
        Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        if (fresh) {
            CSVFormat.DEFAULT.printRecord(w, HeadColumns.NAMES.toArray());
            w.flush();
        }
        return new CsvSink(w);
    }

    @Override
    public void write(Observation observation) throws IOException {
        StringWriter block = new StringWriter();
        try (CSVPrinter printer = new CSVPrinter(block, CSVFormat.DEFAULT)) {
            for (HeadRecord r : observation.heads()) {
                printer.printRecord(HeadColumns.row(observation, r).values());
            }
        }
        out.write(block.toString());
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
