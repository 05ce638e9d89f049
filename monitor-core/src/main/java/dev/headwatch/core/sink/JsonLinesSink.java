package dev.headwatch.core.sink;

import org.nd4j.shade.jackson.databind.ObjectMapper;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * JSON Lines: one record per head per observation,
 * <pre>{"step":120,"epoch":1,"layer":"att0","head":2,"n":64,"d":16,"mask":"causal","time":"2024-05-01T12:00:00Z","maxLogit":7.1,...}</pre>
 * with the fields of {@link dev.headwatch.core.HeadField} by name and {@code null} for NaN. Each
 * observation is written as one block of whole lines and flushed, so a run that is killed leaves only
 * whole lines.
 */
public final class JsonLinesSink implements ObservationSink {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final OutputStream out;

    private JsonLinesSink(OutputStream out) {
        this.out = out;
    }

    /** Appends to {@code file}, creating it (and its parent directories) when missing. */
    public static JsonLinesSink open(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return new JsonLinesSink(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    }

    @Override
    public void write(Observation observation) throws IOException {
        StringBuilder block = new StringBuilder();
        for (HeadRecord r : observation.heads()) {
            block.append(JSON.writeValueAsString(HeadColumns.row(observation, r))).append('\n');
        }
        // One write per observation: the lines land whole or not at all up to the OS's write.
        out.write(block.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
