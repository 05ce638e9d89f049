package dev.headwatch.core.sink;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

class TensorBoardSinkTest {

    private static final Instant CREATED = Instant.parse("2026-01-02T03:04:05.250Z");

    @TempDir
    Path dir;

    @Test
    void file_isNamedForTensorBoard_andStartsWithTheFileVersionRecord() throws IOException {
        try (TensorBoardSink sink = sink(false)) {
            assertThat(sink.file().getFileName().toString())
                    .startsWith("events.out.tfevents." + CREATED.getEpochSecond() + ".");
        }
        List<Event> events = readEvents(onlyFile());
        assertThat(events).hasSize(1);
        assertThat(events.get(0).fileVersion).isEqualTo("brain.Event:2");
        assertThat(events.get(0).wallTime).isEqualTo(CREATED.getEpochSecond() + 0.25);
        assertThat(events.get(0).step).isZero();
        assertThat(events.get(0).values).isEmpty();
    }

    @Test
    void fileVersionRecord_matchesTheBytesTensorFlowWrites() throws IOException {
        // TensorFlow's first record is a 24-byte Event (wall_time: 9 bytes, file_version: 2 + 13 bytes),
        // framed as length 0x18 LE and the masked CRC32C a3 7f 4b 22 that every event file starts with.
        sink(false).close();
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(onlyFile()), 12);
        assertThat(head).containsExactly(0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22);
    }

    @Test
    void write_defaultTags_holdMinMedianMaxPerLayer() throws IOException {
        // layer "enc": entropy of heads 0..2 is 0.5, 0.1, 0.9 -> min 0.1, median 0.5, max 0.9;
        // layer "dec": one head, entropy 0.3 -> all three 0.3.
        Observation obs = observation(7, "enc", new double[] {0.5, 0.1, 0.9}, "dec", new double[] {0.3});
        try (TensorBoardSink sink = sink(false)) {
            sink.write(obs);
        }
        List<Event> events = readEvents(onlyFile());
        assertThat(events).hasSize(2);
        Event e = events.get(1);
        assertThat(e.step).isEqualTo(7);
        assertThat(e.wallTime).isEqualTo(obs.time().getEpochSecond() + obs.time().getNano() / 1e9);
        assertThat(e.values).containsEntry("headwatch/enc/entropy/min", 0.1f)
                .containsEntry("headwatch/enc/entropy/median", 0.5f)
                .containsEntry("headwatch/enc/entropy/max", 0.9f)
                .containsEntry("headwatch/dec/entropy/median", 0.3f)
                .containsEntry("headwatch/enc/energyRms/max", 2f * 0.9f)
                .doesNotContainKey("headwatch/enc/head0/entropy");
        // NaN fields (everything but entropy and energyRms here) and index fields have no tag.
        assertThat(e.values).hasSize(2 * 3 * 2);
    }

    @Test
    void write_perHead_addsOneTagPerHeadAndDefinedMetric() throws IOException {
        Observation obs = observation(3, "layer 0/attn", new double[] {0.25, 0.75}, null, null);
        try (TensorBoardSink sink = sink(true)) {
            sink.write(obs);
            sink.write(new Observation(4, 0, obs.time().plusSeconds(1), obs.heads()));
        }
        List<Event> events = readEvents(onlyFile());
        assertThat(events).extracting(ev -> ev.step).containsExactly(0L, 3L, 4L);
        assertThat(events.get(1).values)
                .containsEntry("headwatch/layer_0_attn/head0/entropy", 0.25f)
                .containsEntry("headwatch/layer_0_attn/head1/entropy", 0.75f)
                .containsEntry("headwatch/layer_0_attn/head1/energyRms", 1.5f)
                .containsEntry("headwatch/layer_0_attn/entropy/median", 0.5f)
                .hasSize(2 * 3 + 2 * 2);
        assertThat(events.get(2).values).isEqualTo(events.get(1).values);
    }

    @Test
    void write_flushesEachObservation_soTheFileIsWholeWhileOpen() throws IOException {
        try (TensorBoardSink sink = sink(false)) {
            sink.write(observation(1, "a", new double[] {0.5}, null, null));
            assertThat(readEvents(sink.file())).hasSize(2);
            sink.write(observation(2, "a", new double[] {0.5}, null, null));
            assertThat(readEvents(sink.file())).hasSize(3);
        }
    }

    @Test
    void twoSinksInOneSecond_writeTwoFiles() throws IOException {
        try (TensorBoardSink a = sink(false); TensorBoardSink b = sink(false)) {
            assertThat(a.file()).isNotEqualTo(b.file());
            assertThat(readEvents(b.file())).hasSize(1);
        }
    }

    @Test
    void maskedCrc_ofKnownData_matchesTheCrc32cCheckValue() {
        // CRC32C("123456789") = 0xE3069283, the standard check value of the Castagnoli polynomial.
        CRC32C crc = new CRC32C();
        crc.update("123456789".getBytes(StandardCharsets.US_ASCII));
        assertThat(crc.getValue()).isEqualTo(0xE3069283L);
        assertThat(mask((int) crc.getValue())).isEqualTo(((0xE3069283 >>> 15) | (0xE3069283 << 17)) + 0xa282ead8);
    }

    private TensorBoardSink sink(boolean perHead) throws IOException {
        return TensorBoardSink.builder(dir).perHead(perHead).clock(Clock.fixed(CREATED, ZoneOffset.UTC)).build();
    }

    private Path onlyFile() throws IOException {
        try (var files = Files.list(dir)) {
            List<Path> all = files.toList();
            assertThat(all).hasSize(1);
            return all.get(0);
        }
    }

    /** Heads with the given entropies and energyRms = 2 x entropy; every other field NaN. */
    private static Observation observation(long step, String layerA, double[] entropyA, String layerB, double[] entropyB) {
        List<HeadRecord> heads = new ArrayList<>();
        addHeads(heads, layerA, entropyA);
        if (layerB != null) {
            addHeads(heads, layerB, entropyB);
        }
        return new Observation(step, 0, Instant.parse("2026-01-02T03:05:00.125Z").plusSeconds(step), heads);
    }

    private static void addHeads(List<HeadRecord> heads, String layer, double[] entropy) {
        for (int h = 0; h < entropy.length; h++) {
            HeadMetrics m = HeadMetrics.builder()
                    .set(HeadField.ENTROPY, entropy[h])
                    .set(HeadField.ENERGY_RMS, 2 * entropy[h])
                    .build();
            heads.add(new HeadRecord(layer, h, 8, 4, Visibility.FULL, m));
        }
    }

    // ---- an independent reader: TFRecord framing and the few protobuf fields, decoded by hand ----

    /** What one decoded {@code tensorflow.Event} holds. */
    private static final class Event {
        double wallTime;
        long step;
        String fileVersion;
        final Map<String, Float> values = new LinkedHashMap<>();
    }

    private static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    private static int crc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        return (int) crc.getValue();
    }

    /** Reads every record, checking both CRCs of each and that no byte is left over. */
    static List<Event> readEvents(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> events = new ArrayList<>();
        while (buf.hasRemaining()) {
            int start = buf.position();
            long length = buf.getLong();
            assertThat(buf.getInt()).as("length CRC at byte %d", start).isEqualTo(mask(crc(bytes, start, 8)));
            int dataStart = buf.position();
            byte[] data = new byte[Math.toIntExact(length)];
            buf.get(data);
            assertThat(buf.getInt()).as("data CRC at byte %d", dataStart).isEqualTo(mask(crc(bytes, dataStart, data.length)));
            events.add(decodeEvent(data));
        }
        return events;
    }

    private static Event decodeEvent(byte[] data) {
        Event e = new Event();
        ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            long key = varint(in);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            switch (field) {
                case 1 -> { assertThat(wire).isEqualTo(1); e.wallTime = in.getDouble(); }
                case 2 -> { assertThat(wire).isZero(); e.step = varint(in); }
                case 3 -> { assertThat(wire).isEqualTo(2); e.fileVersion = new String(bytes(in), StandardCharsets.UTF_8); }
                case 5 -> { assertThat(wire).isEqualTo(2); decodeSummary(ByteBuffer.wrap(bytes(in)), e.values); }
                default -> throw new AssertionError("unexpected Event field " + field);
            }
        }
        return e;
    }

    /** {@code Summary { repeated Value value = 1; }}, {@code Value { string tag = 1; float simple_value = 2; }}. */
    private static void decodeSummary(ByteBuffer in, Map<String, Float> values) {
        while (in.hasRemaining()) {
            assertThat(varint(in)).isEqualTo((1 << 3) | 2);
            ByteBuffer value = ByteBuffer.wrap(bytes(in)).order(ByteOrder.LITTLE_ENDIAN);
            String tag = null;
            Float simple = null;
            while (value.hasRemaining()) {
                long key = varint(value);
                if (key == ((1 << 3) | 2)) {
                    tag = new String(bytes(value), StandardCharsets.UTF_8);
                } else if (key == ((2 << 3) | 5)) {
                    simple = value.getFloat();
                } else {
                    throw new AssertionError("unexpected Summary.Value key " + key);
                }
            }
            assertThat(tag).isNotNull();
            assertThat(simple).isNotNull();
            assertThat(values.put(tag, simple)).as("tag %s written twice", tag).isNull();
        }
    }

    private static byte[] bytes(ByteBuffer in) {
        byte[] b = new byte[Math.toIntExact(varint(in))];
        in.get(b);
        return b;
    }

    private static long varint(ByteBuffer in) {
        long result = 0;
        for (int shift = 0; ; shift += 7) {
            byte b = in.get();
            result |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return result;
            }
        }
    }
}
