package dev.headwatch.core.sink;

import org.nd4j.shade.jackson.databind.ObjectMapper;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertListener;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes every {@link AlertEvent} as one JSON object per line ({@link AlertEvent#toMap()}:
 * {@code type: "alert"}, alert, state, severity, step, time, layer, head, heads, value, threshold, message),
 * flushed per event so a killed run leaves only whole lines. Register it with
 * {@code engine.addListener(AlertJsonlSink.open(dir.resolve("alerts.jsonl")))}.
 */
public final class AlertJsonlSink implements AlertListener, AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    private AlertJsonlSink(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** Creates (or truncates) the file, creating its parent directories. */
    public static AlertJsonlSink open(Path file) throws IOException {
        if (file == null) {
            throw new IllegalArgumentException("alerts file must not be null");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return new AlertJsonlSink(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8));
    }

    @Override
    public synchronized void onAlert(AlertEvent event) throws IOException {
        out.write(MAPPER.writeValueAsString(event.toMap()));
        out.write('\n');
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }

    @Override
    public String toString() {
        return "AlertJsonlSink[" + file + "]";
    }
}
