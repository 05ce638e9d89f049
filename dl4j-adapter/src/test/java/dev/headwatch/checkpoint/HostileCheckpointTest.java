package dev.headwatch.checkpoint;

import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Corrupt, truncated, unrecognised and hostile files: each is refused with one line naming it. */
class HostileCheckpointTest {

    @TempDir
    static Path tmp;
    static Path valid;
    static Map<String, byte[]> entries;

    @BeforeAll
    static void writeValidCheckpoint() throws IOException {
        valid = tmp.resolve("valid.zip");
        ModelSerializer.writeModel(Models.mln(), valid.toFile(), false);
        entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(valid.toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                entries.put(entry.getName(), zip.getInputStream(entry).readAllBytes());
            }
        }
    }

    private static Path zip(String name, Map<String, byte[]> content) throws IOException {
        Path file = tmp.resolve(name);
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : content.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return file;
    }

    private static Map<String, byte[]> validPlus(String name, byte[] content) {
        Map<String, byte[]> m = new LinkedHashMap<>(entries);
        m.put(name, content);
        return m;
    }

    private static String problemOf(Path file) {
        try {
            CheckpointLoader.standard().load(CheckpointRef.of(file));
        } catch (CheckpointException e) {
            assertThat(e.getMessage()).startsWith(file + ": ").doesNotContain("\n");
            return e.problem();
        }
        throw new AssertionError(file + " was accepted");
    }

    @Test
    void validCheckpoint_loads() throws CheckpointException {
        LoadedModel m = CheckpointLoader.standard().load(CheckpointRef.of(valid));
        assertThat(m.format()).isEqualTo(LoadedModel.Format.MULTI_LAYER_NETWORK);
        assertThat(m.network().numParams()).isEqualTo(Models.mln().numParams());
    }

    @Test
    void zipSlip_entryEscapingTheArchive_isRefused() throws IOException {
        assertThat(problemOf(zip("slip.zip", validPlus("objects/../../../tmp/evil.sh", new byte[] {1}))))
                .contains("escapes the archive");
        assertThat(problemOf(zip("absolute.zip", validPlus("/etc/cron.d/evil", new byte[] {1}))))
                .contains("absolute path");
        assertThat(problemOf(zip("backslash.zip", validPlus("..\\..\\evil.bat", new byte[] {1}))))
                .contains("backslash");
    }

    @Test
    void zipBomb_coefficientsInflatingFarBeyondTheirSize_isRefused() throws IOException {
        // 128 MiB of zeros deflates about 1000:1; the default bound is 100:1 above 64 MiB.
        Path file = tmp.resolve("bomb.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            out.putNextEntry(new ZipEntry(CheckpointLoader.CONFIGURATION));
            out.write(entries.get(CheckpointLoader.CONFIGURATION));
            out.putNextEntry(new ZipEntry(CheckpointLoader.COEFFICIENTS));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 128; i++) {
                out.write(zeros);
            }
            out.closeEntry();
        }
        assertThat(Files.size(file)).isLessThan(1L << 20);
        assertThat(problemOf(file)).contains("coefficients.bin").contains("possible zip bomb");
    }

    @Test
    void declaredEntrySizesThatLie_neitherCutTheDataNorLiftTheBound() throws IOException {
        Path lying = zip("lying.zip", entries);
        byte[] bytes = Files.readAllBytes(lying);
        // Central directory headers (PK 1 2): the uncompressed size sits 24 bytes in. Claim 10 bytes for every entry.
        for (int i = 0; i + 46 < bytes.length; i++) {
            if (bytes[i] == 'P' && bytes[i + 1] == 'K' && bytes[i + 2] == 1 && bytes[i + 3] == 2) {
                java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(i + 24, 10);
            }
        }
        Files.write(lying, bytes);

        Map<String, byte[]> read = SafeZip.read(lying, entries.keySet(), ZipLimits.DEFAULT);
        assertThat(read.get(CheckpointLoader.COEFFICIENTS)).isEqualTo(entries.get(CheckpointLoader.COEFFICIENTS));
        assertThat(read.get(CheckpointLoader.CONFIGURATION)).isEqualTo(entries.get(CheckpointLoader.CONFIGURATION));
        int size = entries.get(CheckpointLoader.COEFFICIENTS).length;
        assertThatThrownBy(() -> SafeZip.read(lying, Set.of(CheckpointLoader.COEFFICIENTS),
                new ZipLimits(100, size - 1, 1, 0)))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("possible zip bomb");
    }

    @Test
    void serializedObjects_areNeverDeserialized() throws IOException, ClassNotFoundException {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(payload)) {
            out.writeObject(new Tripwire());
        }
        Map<String, byte[]> content = new LinkedHashMap<>(entries);
        content.put("objects/normalizer", payload.toByteArray());
        content.put("normalizer.bin", payload.toByteArray());
        content.put("preprocessor.bin", payload.toByteArray());
        Path file = zip("objects.zip", content);
        Tripwire.TRIPPED.set(false);

        CheckpointAnalysis report = CheckpointAnalyzer.builder().build().analyze(List.of(file));

        assertThat(report.failed()).isEmpty();
        assertThat(report.checkpoints()).hasSize(1);
        assertThat(Tripwire.TRIPPED).isFalse();
        // The payload is live: Java deserialization of the same bytes trips it.
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(payload.toByteArray()))) {
            in.readObject();
        }
        assertThat(Tripwire.TRIPPED).isTrue();
        Tripwire.TRIPPED.set(false);
    }

    @Test
    void truncatedZip_isNamedCorruptOrTruncated() throws IOException {
        byte[] bytes = Files.readAllBytes(valid);
        Path file = tmp.resolve("truncated.zip");
        Files.write(file, Arrays.copyOf(bytes, bytes.length * 2 / 3));
        assertThat(problemOf(file)).contains("corrupt or truncated zip");
    }

    @Test
    void truncatedCoefficients_areRefusedBeforeAllocating() throws IOException {
        byte[] coefficients = entries.get(CheckpointLoader.COEFFICIENTS);
        Path cut = zip("cut-coefficients.zip", validPlus(CheckpointLoader.COEFFICIENTS,
                Arrays.copyOf(coefficients, coefficients.length / 2)));
        assertThat(problemOf(cut)).contains("coefficients.bin is truncated");
        Path garbage = zip("garbage-coefficients.zip", validPlus(CheckpointLoader.COEFFICIENTS,
                "not an array".getBytes(StandardCharsets.UTF_8)));
        assertThat(problemOf(garbage)).contains("coefficients.bin");
    }

    @Test
    void wrongParameterCount_isNamed() throws IOException {
        Map<String, byte[]> other = new LinkedHashMap<>();
        Path small = tmp.resolve("graph.zip");
        ModelSerializer.writeModel(Models.graph(), small.toFile(), false);
        try (ZipFile zip = new ZipFile(small.toFile())) {
            other.put(CheckpointLoader.COEFFICIENTS, zip.getInputStream(zip.getEntry(CheckpointLoader.COEFFICIENTS)).readAllBytes());
        }
        Path mixed = zip("mixed.zip", validPlus(CheckpointLoader.COEFFICIENTS, other.get(CheckpointLoader.COEFFICIENTS)));
        assertThat(problemOf(mixed)).contains("cannot rebuild the MultiLayerNetwork");
    }

    @Test
    void configurationThatIsNotAModel_isNamed() throws IOException {
        assertThat(problemOf(zip("badjson.zip", validPlus(CheckpointLoader.CONFIGURATION,
                "{not json".getBytes(StandardCharsets.UTF_8))))).contains("configuration.json is not valid JSON");
        assertThat(problemOf(zip("otherjson.zip", validPlus(CheckpointLoader.CONFIGURATION,
                "{\"hello\": 1}".getBytes(StandardCharsets.UTF_8))))).contains("neither a MultiLayerNetwork");
        Map<String, byte[]> noConfig = new LinkedHashMap<>(entries);
        noConfig.remove(CheckpointLoader.CONFIGURATION);
        assertThat(problemOf(zip("noconfig.zip", noConfig))).contains("no configuration.json");
    }

    @Test
    void unrecognisedEmptyAndMissingFiles_areNamed() throws IOException {
        Path text = tmp.resolve("notes.txt");
        Files.writeString(text, "these are not the weights you are looking for\n");
        assertThat(problemOf(text)).contains("unrecognised file");
        Path empty = Files.createFile(tmp.resolve("empty.fb"));
        assertThat(problemOf(empty)).isEqualTo("empty file");
        assertThat(problemOf(tmp.resolve("missing.zip"))).isEqualTo("no such file");
        Path garbageFb = tmp.resolve("garbage.fb");
        byte[] junk = new byte[4096];
        new java.util.Random(3).nextBytes(junk);
        junk[0] = 16; junk[1] = 0; junk[2] = 0; junk[3] = 0; // a plausible root offset
        Files.write(garbageFb, junk);
        assertThat(problemOf(garbageFb)).contains("SameDiff FlatBuffers");
    }

    @Test
    void checkpointInfoNamingAFileOutsideItsDirectory_isAProblemNotARead() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("listed"));
        Files.copy(valid, dir.resolve("checkpoint_0_MultiLayerNetwork.zip"));
        try (OutputStream out = Files.newOutputStream(dir.resolve(CheckpointSeries.INFO_FILE))) {
            out.write(("checkpointNum,timestamp,iteration,epoch,modelType,filename\n"
                    + "0,1,10,0,MultiLayerNetwork,checkpoint_0_MultiLayerNetwork.zip\n"
                    + "1,2,20,0,MultiLayerNetwork,../../valid.zip\n").getBytes(StandardCharsets.UTF_8));
        }

        CheckpointSeries series = CheckpointSeries.resolve(List.of(dir));

        assertThat(series.checkpoints()).extracting(CheckpointRef::label).containsExactly("checkpoint_0_MultiLayerNetwork.zip");
        assertThat(series.problems()).singleElement().satisfies(p ->
                assertThat(p.getMessage()).contains("checkpointInfo.txt: line 3").contains("is not checkpoint_<n>_<ModelType>.zip"));
    }
}
