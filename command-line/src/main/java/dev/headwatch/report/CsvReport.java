package dev.headwatch.report;

import dev.headwatch.checkpoint.CheckpointResult;
import dev.headwatch.checkpoint.HeadResult;
import dev.headwatch.checkpoint.LayerResult;
import dev.headwatch.checkpoint.CheckpointAnalysis;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code metrics.csv}: one row per checkpoint and head; columns {@code checkpoint, iteration, epoch,
 * format, layer, head, n, d, mask}, then every field by its METRICS.md name (empty when undefined).
 */
final class CsvReport {

    private CsvReport() {
    }

    static void write(CheckpointAnalysis report, Writer out) throws IOException {
        List<String> header = new ArrayList<>(List.of("checkpoint", "iteration", "epoch", "format", "layer", "head",
                "n", "d", "mask"));
        header.addAll(CheckpointAnalysis.fieldNames());
        CSVFormat format = CSVFormat.DEFAULT.builder().setHeader(header.toArray(String[]::new))
                .setRecordSeparator('\n').get();
        CSVPrinter csv = new CSVPrinter(out, format);
        for (CheckpointResult c : report.checkpoints()) {
            for (LayerResult l : c.layers()) {
                for (HeadResult h : l.heads()) {
                    List<Object> row = new ArrayList<>(List.of(c.label(), c.iteration() < 0 ? "" : c.iteration(),
                            c.epoch() < 0 ? "" : c.epoch(), c.format(), l.layer(), h.head(), h.n(), h.d(),
                            h.mask().label()));
                    for (String f : CheckpointAnalysis.fieldNames()) {
                        Number v = CheckpointAnalysis.output(h, f);
                        row.add(v == null ? "" : v);
                    }
                    csv.printRecord(row);
                }
            }
        }
        csv.flush();
    }
}
