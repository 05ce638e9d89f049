package dev.headwatch.checkpoint;

import dev.headwatch.samediff.AttentionVariables;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.listeners.checkpoint.CheckpointListener;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.graph.FlatArray;
import org.nd4j.graph.FlatGraph;
import org.nd4j.graph.FlatVariable;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The direct FlatBuffers reader against {@code SameDiff.load}: on checkpoints saved by real training, weight-only
 * analysis through either reports the same numbers, bit for bit; and a forged or damaged file is refused with
 * one line before anything is allocated for it.
 */
class FlatGraphFileTest {

    private static final DeclaredAttention BLOCK = DeclaredAttention.of(AttentionVariables.of("block", "q", "k", "v")
            .heads(Models.HAND_HEADS).causal().output("out")).weights("Wq", "Wk", DeclaredAttention.WeightLayout.COLUMNS);

    @TempDir
    static Path tmp;
    /** Checkpoints of the hand-written block, written by SameDiff's CheckpointListener while it trained. */
    static Path handWrittenDir;
    /** The fused-op model after 3 iterations. */
    static Path fused;

    @BeforeAll
    static void train() {
        SameDiff sd = Models.handWritten();
        handWrittenDir = tmp.resolve("hand");
        sd.setListeners(new CheckpointListener.Builder(handWrittenDir.toFile())
                .saveEveryNIterations(2).keepAll().saveUpdaterState(false).logSaving(false).build());
        for (int i = 0; i < 4; i++) {
            sd.fit(new DataSet(Models.sequences(4, 80 + i), Models.sequences(4, 85 + i)));
        }
        fused = tmp.resolve("fused.fb");
        Models.sameDiff().save(fused.toFile(), false);
    }

    @Test
    void declaredLayerCheckpoints_directReadEqualsTheLoadedGraph() throws IOException {
        for (Path file : checkpoints()) {
            assertThat(direct(file, List.of(BLOCK))).as(file.toString()).isPresent();
        }
        CheckpointAnalyzer.Builder direct = CheckpointAnalyzer.builder().declare(BLOCK);
        CheckpointAnalyzer.Builder loaded = CheckpointAnalyzer.builder().declare(BLOCK).directRead(false);

        CheckpointAnalysis report = direct.build().analyze(checkpoints());

        assertThat(report.checkpoints()).allSatisfy(c -> assertThat(c.layers()).hasSize(1));
        assertSameReport(report, loaded.build().analyze(checkpoints()));
    }

    @Test
    void fusedOpFile_directReadEqualsTheLoadedGraph() throws IOException {
        assertThat(direct(fused, List.of())).get().satisfies(g -> {
            assertThat(g.fusedAttention()).singleElement().satisfies(op -> {
                assertThat(op.layer()).isEqualTo("attention");
                assertThat(op.multiHead()).isTrue();
                assertThat(op.inputs()).hasSize(7).containsSubsequence("input", "Wq", "Wk", "Wv", "Wo");
            });
            assertThat(g.iteration()).isEqualTo(3);
        });

        CheckpointAnalysis report = CheckpointAnalyzer.builder().build().analyze(List.of(fused));

        assertThat(report.checkpoints().get(0).layers()).hasSize(1);
        assertSameReport(report, CheckpointAnalyzer.builder().directRead(false).build().analyze(List.of(fused)));
    }

    @Test
    void singleSameDiffFiles_reportTheIterationAndEpochTheyWereSavedAt() {
        List<Path> files = checkpoints();
        CheckpointAnalysis report = CheckpointAnalyzer.builder().declare(BLOCK).build().analyze(files);

        assertThat(report.failed()).isEmpty();
        assertThat(report.checkpoints()).hasSize(files.size()).hasSizeGreaterThanOrEqualTo(2);
        for (int i = 0; i < files.size(); i++) {
            // the listener names each file after the counters it saved: SameDiff_checkpoint-N_epoch-E_iter-I_<time>.bin
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("_epoch-(\\d+)_iter-(\\d+)_")
                    .matcher(files.get(i).getFileName().toString());
            assertThat(m.find()).isTrue();
            assertThat(report.checkpoints().get(i).epoch()).isEqualTo(Integer.parseInt(m.group(1)));
            assertThat(report.checkpoints().get(i).iteration()).isEqualTo(Long.parseLong(m.group(2)));
        }
    }

    @Test
    void missingDeclaredVariable_isSkippedAsWhenLoaded() {
        DeclaredAttention missing = DeclaredAttention.of(AttentionVariables.of("ghost", "q", "nope", null))
                .weights("Wq", "Wk", DeclaredAttention.WeightLayout.COLUMNS);
        List<Path> one = checkpoints().subList(0, 1);

        CheckpointAnalysis direct = CheckpointAnalyzer.builder().declare(missing).build().analyze(one);

        assertThat(direct.checkpoints().get(0).skipped()).singleElement()
                .satisfies(s -> assertThat(s.reason()).contains("nope"));
        assertSameReport(direct, CheckpointAnalyzer.builder().declare(missing).directRead(false).build().analyze(one));
    }

    @Test
    void forgedArrayShape_isRefusedBeforeAllocating() throws IOException {
        byte[] bytes = Files.readAllBytes(fused);
        FlatArray wq = array(bytes, "Wq");
        // shape info [rank, dims..., strides..., extras, ews, order]: the first dimension becomes 2^40
        int firstDim = wq.shapeAsByteBuffer().position() + Long.BYTES;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(firstDim, 1L << 40);
        Path forged = Files.write(tmp.resolve("forged.fb"), bytes);

        CheckpointAnalysis report = CheckpointAnalyzer.builder().build().analyze(List.of(forged));

        assertThat(report.failed()).singleElement().satisfies(f ->
                assertThat(f.problem()).startsWith("not a readable SameDiff FlatBuffers file").contains("Wq")
                        .doesNotContain("\n"));
    }

    @Test
    void truncatedFile_isOneLineProblem() throws IOException {
        byte[] bytes = Files.readAllBytes(checkpoints().get(0));
        Path cut = Files.write(tmp.resolve("cut.fb"), java.util.Arrays.copyOf(bytes, bytes.length * 2 / 3));

        CheckpointAnalysis report = CheckpointAnalyzer.builder().declare(BLOCK).build().analyze(List.of(cut));

        assertThat(report.failed()).singleElement().satisfies(f ->
                assertThat(f.problem()).contains("SameDiff FlatBuffers").doesNotContain("\n"));
    }

    @Test
    void damagedBytes_areReadOrRefusedWithACheckpointException_neverAnythingElse() throws IOException {
        byte[] original = Files.readAllBytes(fused);
        Random random = new Random(17);
        int read = 0;
        int refused = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] bytes = original.clone();
            for (int k = 0; k < 1 + random.nextInt(4); k++) {
                bytes[8 + random.nextInt(bytes.length - 8)] = (byte) random.nextInt(256);
            }
            try {
                FlatGraphFile.read(fused, bytes, List.of(BLOCK));
                read++;
            } catch (CheckpointException e) {
                assertThat(e.problem()).startsWith("not a readable SameDiff FlatBuffers file").doesNotContain("\n");
                refused++;
            }
        }
        // Most single-byte changes hit array values, which are data; some hit offsets and lengths.
        assertThat(read + refused).isEqualTo(300);
        assertThat(refused).isPositive();
    }

    private static Optional<StoredGraph> direct(Path file, List<DeclaredAttention> declared) throws IOException {
        return CheckpointLoader.standard().storedGraph(CheckpointRef.of(file), declared);
    }

    private static List<Path> checkpoints() {
        try (Stream<Path> files = Files.list(handWrittenDir)) {
            return files.filter(f -> f.toString().endsWith(".bin")).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static FlatArray array(byte[] bytes, String name) {
        FlatGraph graph = FlatGraph.getRootAsFlatGraph(ByteBuffer.wrap(bytes));
        for (int i = 0; i < graph.variablesLength(); i++) {
            FlatVariable v = graph.variables(i);
            if (name.equals(v.name())) {
                return v.ndarray();
            }
        }
        throw new AssertionError(name + " is not stored");
    }

    /** Equal reports: every value the same double, the plots' singular values too (records with arrays compare by identity). */
    private static void assertSameReport(CheckpointAnalysis actual, CheckpointAnalysis expected) {
        assertThat(actual.failed()).isEqualTo(expected.failed()).isEmpty();
        assertThat(actual.alerts()).isEqualTo(expected.alerts());
        assertThat(actual.checkpoints()).hasSameSizeAs(expected.checkpoints());
        for (int c = 0; c < expected.checkpoints().size(); c++) {
            CheckpointResult a = actual.checkpoints().get(c);
            CheckpointResult e = expected.checkpoints().get(c);
            assertThat(List.of(a.label(), a.file(), a.iteration(), a.epoch(), a.format(), a.skipped()))
                    .isEqualTo(List.of(e.label(), e.file(), e.iteration(), e.epoch(), e.format(), e.skipped()));
            assertThat(a.layers()).hasSameSizeAs(e.layers());
            for (int l = 0; l < e.layers().size(); l++) {
                LayerResult la = a.layers().get(l);
                LayerResult le = e.layers().get(l);
                assertThat(List.of(la.layer(), la.kind())).isEqualTo(List.of(le.layer(), le.kind()));
                assertThat(la.qkOverlap()).isDeepEqualTo(le.qkOverlap());
                assertThat(la.heads()).hasSameSizeAs(le.heads());
                for (int h = 0; h < le.heads().size(); h++) {
                    HeadResult ha = la.heads().get(h);
                    HeadResult he = le.heads().get(h);
                    assertThat(ha.withoutPlots()).isEqualTo(he.withoutPlots());
                    assertThat(ha.weights()).isNotNull();
                    if (he.plots() != null) {
                        assertThat(ha.plots().singularValues()).containsExactly(he.plots().singularValues());
                    }
                }
            }
        }
    }
}
