package dev.headwatch.checkpoint;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import dev.headwatch.samediff.AttentionVariables;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.serde.FlatBuffersMapper;
import org.nd4j.graph.FlatArray;
import org.nd4j.graph.FlatGraph;
import org.nd4j.graph.FlatNode;
import org.nd4j.graph.FlatVariable;
import org.nd4j.graph.IntPair;
import org.nd4j.graph.OpType;
import org.nd4j.imports.converters.DifferentialFunctionClassHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.DotProductAttention;
import org.nd4j.linalg.api.ops.impl.transforms.custom.MultiHeadDotProductAttention;
import org.nd4j.linalg.factory.Nd4j;

import dev.headwatch.samediff.SameDiffCapture;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads what weight-only analysis needs straight from a SameDiff FlatBuffers file (nd4j's {@code FlatGraph}),
 * without rebuilding the graph as {@code SameDiff.load} does: the nodes of fused attention ops, the variables a
 * declared layer names, the training counters, and only the arrays whose weights are measured, each converted
 * by {@code Nd4j.createFromFlatArray} as {@code SameDiff.load} converts it. Names resolve as there: a fused
 * op's inputs by (node, output) id, variables by name.
 *
 * <p>Every vector, string and array is checked against the file before anything is allocated for it, and
 * the vector elements visited plus the characters decoded may not exceed a few times the file's size (tables
 * and strings may be shared in a forged file, never in a saved one), so a forged file costs at most a few
 * passes over its bytes; a structural fault is a {@link CheckpointException}. {@link #read} is empty when
 * the file uses something this reader does not model the way {@code SameDiff.load} does (an op output that
 * is not stored, a name given twice, an array not in its default layout, an op it cannot tell apart by hash
 * and name): the caller then loads the whole graph, so both ways report the same numbers. The rest of the
 * graph (other ops' arguments, other arrays, the updater state) is never decoded.
 *
 * <p>Why by hand: ND4J offers only {@code SameDiff.load}, which decodes every array and rebuilds every op
 * before anything can be read. On a BERT-base-sized file (433 MB: twelve fused attention layers, their
 * feed-forward weights and a 30522-row embedding) a weight-only analysis took 20 s and 1.6 GB resident
 * this way against 33 s and 2.4 GB through {@code SameDiff.load}, one cold run each. The FlatBuffers decoding
 * itself (the {@code org.nd4j.graph} tables, {@code Nd4j.createFromFlatArray}) is ND4J's; the checks above
 * are what this class adds.
 */
final class FlatGraphFile implements StoredGraph {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_RANK = 32;

    private final List<FusedAttention> fused;
    private final Set<String> variables;
    private final Map<String, INDArray> arrays;
    private final long iteration;
    private final int epoch;

    private FlatGraphFile(List<FusedAttention> fused, Set<String> variables, Map<String, INDArray> arrays,
                          long iteration, int epoch) {
        this.fused = fused;
        this.variables = variables;
        this.arrays = arrays;
        this.iteration = iteration;
        this.epoch = epoch;
    }

    /**
     * Reads a FlatBuffers file whose root offset was already checked.
     *
     * @param declared the declared layers: their variables are looked up, their projection weights converted
     * @return the graph, or empty when the whole graph must be loaded instead
     * @throws CheckpointException when the file is corrupt or truncated
     */
    static Optional<StoredGraph> read(Path file, byte[] bytes, Collection<DeclaredAttention> declared)
            throws CheckpointException {
        try {
            return Optional.ofNullable(new Reader(file, bytes).read(declared));
        } catch (IndexOutOfBoundsException | IllegalArgumentException | BufferUnderflowException e) {
            throw corrupt(file, "offset or length out of bounds (" + CheckpointLoader.rootMessage(e) + ")", e);
        }
    }

    @Override
    public List<FusedAttention> fusedAttention() {
        return fused;
    }

    @Override
    public boolean hasVariable(String name) {
        return variables.contains(name);
    }

    @Override
    public INDArray array(String name) {
        return arrays.get(name);
    }

    @Override
    public long iteration() {
        return iteration;
    }

    @Override
    public int epoch() {
        return epoch;
    }

    private static CheckpointException corrupt(Path file, String what, Throwable cause) {
        return new CheckpointException(file, "not a readable SameDiff FlatBuffers file (corrupt or truncated: "
                + what + ")", cause);
    }

    /** The names of the fused attention ops and their hashes (a custom op's {@code opNum} in the file). */
    private static final class Ops {
        static final String MULTI = new MultiHeadDotProductAttention().opName();
        static final String PLAIN = new DotProductAttention().opName();
        static final long MULTI_HASH = new MultiHeadDotProductAttention().opHash();
        static final long PLAIN_HASH = new DotProductAttention().opHash();
    }

    /** One pass over the file; null from {@link #read} means "load the whole graph". */
    private static final class Reader {
        private final Path file;
        private final ByteBuffer bb;
        /** Vector elements and characters left to read. */
        private long budget;

        Reader(Path file, byte[] bytes) {
            this.file = file;
            this.bb = ByteBuffer.wrap(bytes);
            this.budget = 4L * bytes.length + 4096;
        }

        /** A node of a fused attention op: its name, reported name, kind, scaling and input ids. */
        private record Node(String name, String layer, boolean multiHead, boolean scaled, long[] inputs) {
        }

        /** Any node that is not a fused attention op. */
        private static final Node OTHER = new Node(null, null, false, false, null);

        /** How often a variable name is stored, and the index of its last copy. */
        private static final class Stored {
            int count;
            int index;
        }

        StoredGraph read(Collection<DeclaredAttention> declared) throws CheckpointException {
            FlatGraph graph = FlatGraph.getRootAsFlatGraph(bb);
            List<Node> fusedNodes = new ArrayList<>();
            Map<String, Integer> nodeNames = new HashMap<>();
            Set<String> outputs = new HashSet<>();
            int nodeCount = length(graph.nodesLength(), 4, "nodes");
            FlatNode node = new FlatNode();
            for (int i = 0; i < nodeCount; i++) {
                graph.nodes(node, i);
                nodeNames.merge(string(node.name(), "node " + i), 1, Integer::sum);
                int outputCount = length(node.outputNamesLength(), 4, "outputs of node " + i);
                for (int j = 0; j < outputCount; j++) {
                    outputs.add(string(node.outputNames(j), "output of node " + i));
                }
                Node n = fused(node, i);
                if (n == null) {
                    return null;
                }
                if (n != OTHER) {
                    fusedNodes.add(n);
                }
            }
            Set<Long> wantedIds = new HashSet<>();
            fusedNodes.forEach(n -> Arrays.stream(n.inputs).forEach(wantedIds::add));
            Map<String, Stored> byName = new HashMap<>();
            Map<Long, String> byId = new HashMap<>();
            int variableCount = length(graph.variablesLength(), 4, "variables");
            FlatVariable variable = new FlatVariable();
            IntPair id = new IntPair();
            for (int i = 0; i < variableCount; i++) {
                graph.variables(variable, i);
                String name = string(variable.name(), "variable " + i);
                if (name == null || variable.id(id) == null) {
                    throw corrupt(file, "variable " + i + " has no " + (name == null ? "name" : "id"), null);
                }
                Stored s = byName.computeIfAbsent(name, k -> new Stored());
                s.count++;
                s.index = i;
                long key = key(id.first(), id.second());
                if (wantedIds.contains(key)) {
                    byId.put(key, name); // the last copy wins, as in SameDiff.load
                }
            }
            // SameDiff.load creates a variable for an op output that was not stored, re-pointing its id: not modelled.
            if (!byName.keySet().containsAll(outputs)) {
                return null;
            }
            Set<String> names = new LinkedHashSet<>();
            Set<String> weights = new LinkedHashSet<>();
            for (DeclaredAttention d : declared) {
                AttentionVariables v = d.variables();
                for (String name : Arrays.asList(v.q(), v.k(), v.v(), v.output(), d.wq(), d.wk())) {
                    if (name != null) {
                        names.add(name);
                    }
                }
                if (d.wq() != null) {
                    weights.add(d.wq());
                    weights.add(d.wk());
                }
            }
            List<FusedAttention> fused = new ArrayList<>();
            for (Node n : fusedNodes) {
                Stored same = byName.get(n.name);
                // SameDiff.load names an op's outputs after the variable that shares the op's name, if there is one.
                if (nodeNames.get(n.name) > 1 || same != null && (same.count > 1 || !n.layer.equals(n.name))) {
                    return null;
                }
                List<String> inputs = new ArrayList<>();
                for (long in : n.inputs) {
                    String name = byId.get(in);
                    if (name == null) {
                        return null;
                    }
                    inputs.add(name);
                }
                names.addAll(inputs);
                if (n.multiHead) {
                    weights.add(SameDiffCapture.queryWeights(true, inputs));
                    weights.add(SameDiffCapture.keyWeights(true, inputs));
                }
                fused.add(new FusedAttention(n.layer, n.multiHead, n.scaled, List.copyOf(inputs)));
            }
            for (String name : names) {
                Stored s = byName.get(name);
                if (s != null && s.count > 1) {
                    return null;
                }
            }
            Map<String, INDArray> arrays = new HashMap<>();
            for (String name : weights) {
                Stored s = byName.get(name);
                if (s == null) {
                    continue;
                }
                graph.variables(variable, s.index);
                int type = variable.variabletype();
                if (type < 0 || type >= VariableType.values().length) {
                    throw corrupt(file, "variable " + name + " has type " + type, null);
                }
                VariableType vt = VariableType.values()[type];
                if (vt == VariableType.VARIABLE || vt == VariableType.CONSTANT) {
                    FlatArray stored = variable.ndarray();
                    INDArray a = stored == null ? null : array(name, stored);
                    if (a == null) {
                        return null;
                    }
                    arrays.put(name, a);
                }
            }
            long[] counters = counters(graph);
            if (counters == null) {
                return null;
            }
            return new FlatGraphFile(List.copyOf(fused), Set.copyOf(byName.keySet()), arrays, counters[0],
                    (int) counters[1]);
        }

        /**
         * A fused attention node, {@link #OTHER} for any other node, or null when the op cannot be told apart
         * the way {@code SameDiff.load} tells it. Only a custom op carrying the hash or the name of a fused
         * attention op can resolve to one, so only those are resolved.
         */
        private Node fused(FlatNode node, int index) throws CheckpointException {
            if (node.opType() != OpType.CUSTOM && node.opType() != OpType.LOGIC) {
                return OTHER;
            }
            long hash = node.opNum();
            String opName = string(node.opName(), "op of node " + index);
            if (hash != Ops.MULTI_HASH && hash != Ops.PLAIN_HASH && !Ops.MULTI.equals(opName) && !Ops.PLAIN.equals(opName)) {
                return OTHER;
            }
            Class<?> c;
            try {
                c = DifferentialFunctionClassHolder.getInstance().customOpClassForHashAndName(hash, opName);
            } catch (RuntimeException e) {
                return null;
            }
            if (c != MultiHeadDotProductAttention.class && c != DotProductAttention.class) {
                return OTHER;
            }
            String name = node.name();
            int iArgs = length(node.extraIntegerLength(), 8, "integer arguments of node " + index);
            if (name == null || iArgs == 1) {   // SameDiff.load fails on both: let it say why
                return null;
            }
            String layer = node.outputNamesLength() > 0 ? node.outputNames(0) : name;
            int inputCount = length(node.inputPairedLength(), 4, "inputs of node " + name);
            long[] inputs = new long[inputCount];
            IntPair pair = new IntPair();
            for (int j = 0; j < inputCount; j++) {
                node.inputPaired(pair, j);
                inputs[j] = key(pair.first(), pair.second());
            }
            return new Node(name, layer, c == MultiHeadDotProductAttention.class, iArgs == 0 || node.extraInteger(0) != 0,
                    inputs);
        }

        /** The training counters {iteration, epoch} from the stored training configuration, -1 without one. */
        private long[] counters(FlatGraph graph) throws CheckpointException {
            String config = string(graph.trainingConfig(), "training configuration");
            if (config == null) {
                return new long[] {-1, -1};
            }
            JsonNode root;
            try {
                root = JSON.readTree(config);
            } catch (IOException e) {
                return null;
            }
            if (root == null || !root.isObject()) {
                return null;
            }
            JsonNode it = root.path("iterationCount");
            JsonNode ep = root.path("epochCount");
            return new long[] {it.canConvertToInt() ? it.asInt() : -1, ep.canConvertToInt() ? ep.asInt() : -1};
        }

        /**
         * The array as {@code Nd4j.createFromFlatArray} makes it, after checking its shape against its buffer;
         * null when it is empty, not floating point or not in the default layout of its order.
         */
        private INDArray array(String name, FlatArray a) throws CheckpointException {
            DataType type;
            try {
                type = FlatBuffersMapper.getDataTypeFromByte(a.dtype());
            } catch (RuntimeException e) {
                throw corrupt(file, "array of " + name + " has data type " + a.dtype(), e);
            }
            if (type != DataType.FLOAT && type != DataType.DOUBLE && type != DataType.HALF) {
                return null;
            }
            int infoLength = length(a.shapeLength(), 8, "shape of " + name);
            long rank = infoLength == 0 ? -1 : a.shape(0);
            if (rank < 0 || rank > MAX_RANK || infoLength < 2 * rank + 4) {
                throw corrupt(file, "array of " + name + " has rank " + rank + " with " + infoLength
                        + " shape values", null);
            }
            int r = (int) rank;
            long[] info = new long[2 * r + 4];
            for (int i = 0; i < info.length; i++) {
                info[i] = a.shape(i);
            }
            long[] shape = Arrays.copyOfRange(info, 1, r + 1);
            long[] stride = Arrays.copyOfRange(info, r + 1, 2 * r + 1);
            long elements = 1;
            for (long d : shape) {
                if (d < 0 || (d > 0 && elements > Integer.MAX_VALUE / d)) {
                    throw corrupt(file, "array of " + name + " has shape " + Arrays.toString(shape), null);
                }
                elements *= d;
            }
            long bytes = elements * type.width();
            if (a.bufferLength() < bytes) {
                throw corrupt(file, "array of " + name + " of shape " + Arrays.toString(shape) + " needs " + bytes
                        + " bytes but holds " + a.bufferLength(), null);
            }
            char order = info[info.length - 1] == 99 ? 'c' : 'f';
            if (elements == 0 || (a.byteOrder() != org.nd4j.graph.ByteOrder.LE && a.byteOrder() != org.nd4j.graph.ByteOrder.BE)
                    || !Arrays.equals(stride, Nd4j.getStrides(shape, order))) {
                return null;
            }
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                return Nd4j.createFromFlatArray(a);
            }
        }

        /** A vector length, checked against what the file could hold with elements of this width, and charged. */
        private int length(int n, int width, String what) throws CheckpointException {
            if (n < 0 || n > bb.capacity() / width) {
                throw corrupt(file, what + ": vector of " + n + " elements in a file of " + bb.capacity() + " bytes", null);
            }
            charge(n, what);
            return n;
        }

        /** The string (null when absent), charged. */
        private String string(String s, String what) throws CheckpointException {
            charge(s == null ? 1 : s.length() + 1L, what);
            return s;
        }

        private void charge(long units, String what) throws CheckpointException {
            budget -= units;
            if (budget < 0) {
                throw corrupt(file, what + ": its vectors and strings add up to far more than the file holds", null);
            }
        }

        private static long key(int node, int output) {
            return ((long) node << 32) | (output & 0xffffffffL);
        }
    }
}
