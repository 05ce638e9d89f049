package dev.headwatch.core.sink;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.LayerSpread;
import dev.headwatch.core.Observation;
import org.nd4j.shade.protobuf.CodedOutputStream;
import org.tensorflow.framework.Summary;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.zip.CRC32C;

/**
 * Writes observations as TensorBoard scalars: one {@code events.out.tfevents.<seconds>.<host>} file
 * per sink in the log directory, which {@code tensorboard --logdir DIR} opens.
 *
 * <p>Tags: {@code headwatch/<layer>/<metric>/min|median|max}, the spread over the layer's heads
 * ({@link LayerSpread}), always; {@code headwatch/<layer>/head<h>/<metric>} per head only when
 * {@link Builder#perHead(boolean)} is set, because thousands of tags make TensorBoard slow.
 * Undefined (NaN) values are not written, so a tag starts when its metric has a value. Characters
 * TensorBoard does not allow in a tag ({@code [^-\w.]}) are replaced by {@code _} in layer names.
 *
 * <p>Format: a TFRecord file (per record the length as little-endian uint64, the masked CRC32C of the
 * length, the data, the masked CRC32C of the data) of {@code tensorflow.Event} messages; the first
 * holds {@code file_version: "brain.Event:2"}, each observation is one event with its step, its wall
 * time and a {@code Summary} of {@code simple_value}s. Each observation is flushed before
 * {@link #write} returns, so a killed run leaves whole records.
 */
public final class TensorBoardSink implements ObservationSink {

    /** The file-version string every TensorBoard event file starts with. */
    static final String FILE_VERSION = "brain.Event:2";
    static final String TAG_PREFIX = "headwatch/";

    // tensorflow.Event field numbers (tensorflow/core/util/event.proto)
    private static final int EVENT_WALL_TIME = 1;
    private static final int EVENT_STEP = 2;
    private static final int EVENT_FILE_VERSION = 3;
    private static final int EVENT_SUMMARY = 5;

    private static final int MASK_DELTA = 0xa282ead8;

    private final Path file;
    private final boolean perHead;
    private final OutputStream out;

    private TensorBoardSink(Path file, boolean perHead, Instant created) throws IOException {
        this.file = file;
        this.perHead = perHead;
        this.out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE));
        try {
            writeRecord(event(created, 0, FILE_VERSION, null));
            out.flush();
        } catch (IOException e) {
            out.close();
            throw e;
        }
    }

    /** A sink writing into {@code logDir} (created if missing) with per-layer tags only. */
    public static TensorBoardSink create(Path logDir) throws IOException {
        return builder(logDir).build();
    }

    /** A builder for a sink writing into {@code logDir}. */
    public static Builder builder(Path logDir) {
        if (logDir == null) {
            throw new IllegalArgumentException("log directory must not be null");
        }
        return new Builder(logDir);
    }

    /** The event file this sink writes. */
    public Path file() {
        return file;
    }

    @Override
    public void write(Observation observation) throws IOException {
        Summary.Builder summary = Summary.newBuilder();
        for (LayerSpread spread : LayerSpread.of(observation)) {
            String base = TAG_PREFIX + tagPart(spread.layer()) + "/" + spread.field().fieldName() + "/";
            spread.stats().forEach((stat, value) -> add(summary, base + stat, value));
        }
        if (perHead) {
            for (HeadRecord r : observation.heads()) {
                String base = TAG_PREFIX + tagPart(r.layer()) + "/head" + r.head() + "/";
                for (HeadField field : HeadField.values()) {
                    add(summary, base + field.fieldName(), r.metrics().get(field));
                }
            }
        }
        writeRecord(event(observation.time(), observation.step(), null, summary.build()));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    private static void add(Summary.Builder summary, String tag, double value) {
        if (!Double.isNaN(value)) {
            summary.addValue(Summary.Value.newBuilder().setTag(tag).setSimpleValue((float) value));
        }
    }

    /** A layer name as one tag component: TensorBoard's tag characters, no {@code /}. */
    static String tagPart(String name) {
        String cleaned = name.replaceAll("[^-\\w.]", "_");
        return cleaned.isEmpty() ? "_" : cleaned;
    }

    /** One {@code tensorflow.Event}; default (zero, absent) fields are left out as proto3 does. */
    private static byte[] event(Instant time, long step, String fileVersion, Summary summary) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream coded = CodedOutputStream.newInstance(bytes);
        coded.writeDouble(EVENT_WALL_TIME, time.getEpochSecond() + time.getNano() / 1e9);
        if (step != 0) {
            coded.writeInt64(EVENT_STEP, step);
        }
        if (fileVersion != null) {
            coded.writeString(EVENT_FILE_VERSION, fileVersion);
        }
        if (summary != null) {
            coded.writeMessage(EVENT_SUMMARY, summary);
        }
        coded.flush();
        return bytes.toByteArray();
    }

    private void writeRecord(byte[] data) throws IOException {
        byte[] length = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(data.length).array();
        out.write(length);
        out.write(maskedCrc(length));
        out.write(data);
        out.write(maskedCrc(data));
    }

    private static byte[] maskedCrc(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        int c = (int) crc.getValue();
        int masked = ((c >>> 15) | (c << 17)) + MASK_DELTA;
        return ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(masked).array();
    }

    /** Configures a {@link TensorBoardSink}. */
    public static final class Builder {
        private final Path logDir;
        private boolean perHead;
        private Clock clock = Clock.systemUTC();

        private Builder(Path logDir) {
            this.logDir = logDir;
        }

        /** Also write one tag per head and metric (default false: per-layer spreads only). */
        public Builder perHead(boolean perHead) {
            this.perHead = perHead;
            return this;
        }

        /** The clock for the file name and the file-version record (default: the system clock). */
        public Builder clock(Clock clock) {
            if (clock == null) {
                throw new IllegalArgumentException("clock must not be null");
            }
            this.clock = clock;
            return this;
        }

        /** Creates the log directory if needed and opens a new event file in it. */
        public TensorBoardSink build() throws IOException {
            if (Files.exists(logDir) && !Files.isDirectory(logDir)) {
                throw new IllegalArgumentException("log directory " + logDir + " exists and is not a directory");
            }
            Files.createDirectories(logDir);
            Instant now = clock.instant();
            String name = "events.out.tfevents." + now.getEpochSecond() + "." + host();
            Path file = logDir.resolve(name);
            // Two sinks opened within one second in one directory: keep both files.
            for (int i = 1; Files.exists(file); i++) {
                file = logDir.resolve(name + "." + i);
            }
            return new TensorBoardSink(file, perHead, now);
        }

        private static String host() {
            try {
                return tagPart(InetAddress.getLocalHost().getHostName());
            } catch (IOException e) {
                return "localhost";
            }
        }
    }
}
