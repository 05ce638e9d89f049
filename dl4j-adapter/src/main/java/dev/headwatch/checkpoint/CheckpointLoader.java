package dev.headwatch.checkpoint;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a saved model without deserializing Java objects. A {@code ModelSerializer} zip is recognised
 * by its {@code configuration.json} (MultiLayerNetwork: {@code confs}; ComputationGraph:
 * {@code vertices} and {@code networkInputs}), rebuilt with {@code MultiLayerConfiguration.fromJson} or
 * {@code ComputationGraphConfiguration.fromJson} and initialised with the parameters of
 * {@code coefficients.bin}, as {@code ModelSerializer} does; {@code objects/*}, {@code preprocessor.bin}
 * and the updater state are never read. Anything else is tried as a SameDiff FlatBuffers file: rebuilt with
 * {@code SameDiff.fromFlatBuffers} ({@link #load}), or, for weight-only analysis, read directly by
 * {@link FlatGraphFile}, which converts only the arrays it measures.
 * Every failure is a {@link CheckpointException} naming the file and the problem.
 */
public final class CheckpointLoader {

    static final String CONFIGURATION = "configuration.json";
    static final String COEFFICIENTS = "coefficients.bin";
    static final String NO_PARAMS = "noParams.marker";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ZipLimits limits;

    private CheckpointLoader(ZipLimits limits) {
        this.limits = limits;
    }

    /** A loader with {@link ZipLimits#DEFAULT}. */
    public static CheckpointLoader standard() {
        return new CheckpointLoader(ZipLimits.DEFAULT);
    }

    /** A loader with these zip bounds. */
    public static CheckpointLoader withLimits(ZipLimits limits) {
        if (limits == null) {
            throw new IllegalArgumentException("limits must not be null");
        }
        return new CheckpointLoader(limits);
    }

    /** Reads one file. */
    public LoadedModel load(CheckpointRef ref) throws CheckpointException {
        Path file = ref.file();
        try {
            return isZip(file) ? loadZip(ref) : loadSameDiff(ref, sameDiffBytes(file));
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read file (" + e.getMessage() + ")", e);
        }
    }

    /**
     * What weight-only analysis reads of a SameDiff file, straight from its FlatBuffers ({@link FlatGraphFile});
     * empty when the file is a zip, or when the reader needs the whole graph loaded ({@link #load}).
     *
     * @param declared the declared attention layers whose variables are looked up
     */
    Optional<StoredGraph> storedGraph(CheckpointRef ref, Collection<DeclaredAttention> declared) throws CheckpointException {
        Path file = ref.file();
        try {
            return isZip(file) ? Optional.empty() : FlatGraphFile.read(file, sameDiffBytes(file), declared);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read file (" + e.getMessage() + ")", e);
        }
    }

    /** Whether a file that exists and is not empty is a zip. */
    private static boolean isZip(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new CheckpointException(file, "no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "not a regular file");
        }
        if (Files.size(file) == 0) {
            throw new CheckpointException(file, "empty file");
        }
        return SafeZip.looksLikeZip(file);
    }

    private LoadedModel loadZip(CheckpointRef ref) throws CheckpointException {
        Path file = ref.file();
        Map<String, byte[]> entries = SafeZip.read(file, Set.of(CONFIGURATION, COEFFICIENTS, NO_PARAMS), limits);
        byte[] config = entries.get(CONFIGURATION);
        if (config == null) {
            throw new CheckpointException(file, "zip holds no " + CONFIGURATION + ": not a DL4J model");
        }
        String json = new String(config, StandardCharsets.UTF_8);
        LoadedModel.Format format = formatOf(file, json);
        byte[] coefficients = entries.get(COEFFICIENTS);
        INDArray params = null;
        if (coefficients != null && coefficients.length > 0) {
            params = Coefficients.read(file, coefficients);
        } else if (!entries.containsKey(NO_PARAMS)) {
            throw new CheckpointException(file, "zip holds no " + COEFFICIENTS + ": not a complete DL4J model");
        }
        try {
            if (format == LoadedModel.Format.MULTI_LAYER_NETWORK) {
                MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(json);
                if (params != null) {
                    conf.setDataType(params.dataType());
                }
                MultiLayerNetwork net = new MultiLayerNetwork(conf);
                net.init(params, false);
                return new LoadedModel(ref, format, net, null);
            }
            ComputationGraphConfiguration conf = ComputationGraphConfiguration.fromJson(json);
            if (params != null) {
                conf.setDataType(params.dataType());
            }
            ComputationGraph cg = new ComputationGraph(conf);
            cg.init(params, false);
            return new LoadedModel(ref, format, cg, null);
        } catch (RuntimeException | LinkageError e) {
            throw new CheckpointException(file, "cannot rebuild the " + format.label() + " from "
                    + CONFIGURATION + " and " + COEFFICIENTS + " (" + rootMessage(e) + ")", e);
        }
    }

    private static LoadedModel.Format formatOf(Path file, String json) throws CheckpointException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (org.nd4j.shade.jackson.core.JsonProcessingException e) {
            throw new CheckpointException(file, CONFIGURATION + " is not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (root != null && root.has("vertices") && root.has("networkInputs")) {
            return LoadedModel.Format.COMPUTATION_GRAPH;
        }
        if (root != null && root.has("confs")) {
            return LoadedModel.Format.MULTI_LAYER_NETWORK;
        }
        throw new CheckpointException(file, CONFIGURATION
                + " describes neither a MultiLayerNetwork (confs) nor a ComputationGraph (vertices)");
    }

    /** The bytes of a file that may be a SameDiff FlatBuffers file: within the size bound, its root offset inside it. */
    private byte[] sameDiffBytes(Path file) throws IOException {
        long size = Files.size(file);
        if (size > limits.maxEntryBytes()) {
            throw new CheckpointException(file, "file of " + size + " bytes exceeds the " + limits.maxEntryBytes()
                    + "-byte bound for a SameDiff file");
        }
        byte[] bytes = Files.readAllBytes(file);
        // A FlatBuffers file starts with the little-endian offset of its root table, inside the file.
        long root = bytes.length < 8 ? -1 : Integer.toUnsignedLong(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt());
        if (root < 8 || root >= bytes.length || root % 4 != 0) {
            throw new CheckpointException(file, "unrecognised file: neither a DL4J model zip nor a SameDiff FlatBuffers file");
        }
        return bytes;
    }

    private static LoadedModel loadSameDiff(CheckpointRef ref, byte[] bytes) throws CheckpointException {
        try {
            SameDiff sd = SameDiff.fromFlatBuffers(ByteBuffer.wrap(bytes), false);
            return new LoadedModel(ref, LoadedModel.Format.SAMEDIFF, null, sd);
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            throw new CheckpointException(ref.file(), "not a readable SameDiff FlatBuffers file (corrupt, truncated or "
                    + "unrecognised: " + rootMessage(e) + ")", e);
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? "" : CheckpointException.oneLine(t.getMessage());
        if (m.length() > 300) {
            m = m.substring(0, 300) + "...";
        }
        return t.getClass().getSimpleName() + (m.isEmpty() ? "" : ": " + m);
    }
}
