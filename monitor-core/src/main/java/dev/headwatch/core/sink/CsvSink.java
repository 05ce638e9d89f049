package dev.headwatch.core.sink;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;

/**
 * CSV with the columns of the JSON Lines sink ({@code step, epoch, layer, head, n, d, mask, time}, then
 * every metric by name); undefined values are empty cells. Rows follow RFC 4180 (what commons-csv's default
 * format writes), written here so the core needs no CSV library. The header is written when the file is new or
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
            w.write(line(HeadColumns.NAMES));
            w.flush();
        }
        return new CsvSink(w);
    }

    @Override
    public void write(Observation observation) throws IOException {
        StringBuilder block = new StringBuilder();
        for (HeadRecord r : observation.heads()) {
            block.append(line(HeadColumns.row(observation, r).values()));
        }
        out.write(block.toString());
        out.flush();
    }

    /** One RFC 4180 row ending in CRLF: null is an empty cell; a cell with a comma, quote or line break is quoted. */
    static String line(Collection<?> cells) {
        StringBuilder s = new StringBuilder();
        boolean first = true;
        for (Object cell : cells) {
            if (!first) {
                s.append(',');
            }
            first = false;
            String text = cell == null ? "" : cell.toString();
            if (text.indexOf(',') >= 0 || text.indexOf('"') >= 0 || text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
                text = '"' + text.replace("\"", "\"\"") + '"';
            }
            s.append(text);
        }
        return s.append("\r\n").toString();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
