package dev.headwatch.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The few parts of an ONNX {@code ModelProto} that attention discovery needs: the main graph's nodes (op type,
 * name, inputs, outputs, the attributes {@code perm} and {@code value}), its initializers and its inputs and outputs.
 * A reader of the protobuf wire format for just these fields (field numbers from {@code onnx.proto}), rather than
 * ONNX's generated classes: ONNX Runtime's Java jar does not ship them, generating them needs {@code protoc} at
 * build time, and a reader of a dozen fields can check every length against the bytes present, so a corrupt or
 * hostile file fails with one line instead of an allocation of what its header claims. Tensor data is not copied
 * until asked for.
 *
 * <p>{@link #withOutputs} adds graph outputs by appending a serialized {@code ModelProto} fragment: protobuf
 * merges a repeated embedded message field by concatenation, so the model's bytes stay as they are.
 */
final class OnnxGraph {

    /** ONNX's {@code TensorProto.DataType} codes this reader converts. */
    static final int FLOAT = 1;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int DOUBLE = 11;

    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int LEN = 2;
    private static final int FIXED32 = 5;

    /** A node of the graph. {@code attributes} holds the ints ({@code perm}, {@code axis}) and tensors ({@code value}). */
    record Node(String name, String opType, List<String> inputs, List<String> outputs, Map<String, long[]> ints,
                Map<String, Tensor> tensors) {
    }

    /** A tensor: its dimensions and where its data lies in the file. */
    record Tensor(String name, long[] dims, int dataType, Field raw, Field typed, boolean external) {
        long size() {
            long n = 1;
            for (long d : dims) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        /** The values as doubles (float, double, int32 or int64 data), checked against the dimensions. */
        double[] values() {
            if (external) {
                throw new IllegalArgumentException("tensor " + name + " keeps its data in an external file, which is not read");
            }
            long n = size();
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("tensor " + name + " has " + n + " elements");
            }
            int count = (int) n;
            // checked against the bytes present before anything is allocated for them
            Field data = raw != null ? raw : typed;
            if (raw == null && count > (typed == null ? 0 : typed.length)) {
                throw new IllegalArgumentException("tensor " + name + " of shape " + java.util.Arrays.toString(dims)
                        + " needs " + count + " values but holds " + (data == null ? 0 : data.length) + " bytes");
            }
            if (raw != null) {
                int item = switch (dataType) {
                    case FLOAT, INT32 -> 4;
                    case DOUBLE, INT64 -> 8;
                    default -> throw unsupported();
                };
                if ((long) count * item != raw.length) {
                    throw new IllegalArgumentException("tensor " + name + " of shape " + java.util.Arrays.toString(dims)
                            + " needs " + (long) count * item + " bytes of data but holds " + raw.length);
                }
            }
            double[] out = new double[count];
            if (raw != null) {
                ByteBuffer b = ByteBuffer.wrap(raw.bytes, raw.offset, raw.length).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < count; i++) {
                    out[i] = switch (dataType) {
                        case FLOAT -> b.getFloat();
                        case INT32 -> b.getInt();
                        case DOUBLE -> b.getDouble();
                        default -> b.getLong();
                    };
                }
                return out;
            }
            Reader r = typed == null ? new Reader(new byte[0], 0, 0) : new Reader(typed.bytes, typed.offset, typed.length);
            int i = 0;
            while (r.more()) {
                if (i == count) {
                    throw new IllegalArgumentException("tensor " + name + " holds more values than its shape "
                            + java.util.Arrays.toString(dims));
                }
                out[i++] = switch (dataType) {
                    case FLOAT -> Float.intBitsToFloat(r.fixed32());
                    case DOUBLE -> Double.longBitsToDouble(r.fixed64());
                    case INT32, INT64 -> r.varint();
                    default -> throw unsupported();
                };
            }
            if (i != count) {
                throw new IllegalArgumentException("tensor " + name + " holds " + i + " values but its shape "
                        + java.util.Arrays.toString(dims) + " needs " + count);
            }
            return out;
        }

        private IllegalArgumentException unsupported() {
            return new IllegalArgumentException("tensor " + name + " has ONNX data type " + dataType
                    + "; only float, double, int32 and int64 are read");
        }
    }

    /** A slice of the file's bytes. */
    record Field(byte[] bytes, int offset, int length) {
    }

    private final byte[] bytes;
    final List<Node> nodes;
    final Map<String, Tensor> initializers;
    final List<String> inputs;
    final List<String> outputs;

    private OnnxGraph(byte[] bytes, List<Node> nodes, Map<String, Tensor> initializers, List<String> inputs,
                      List<String> outputs) {
        this.bytes = bytes;
        this.nodes = nodes;
        this.initializers = initializers;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /**
     * Parses a serialized {@code ModelProto}.
     *
     * @throws IllegalArgumentException naming the problem when the bytes are not an ONNX model
     */
    static OnnxGraph parse(byte[] bytes) {
        try {
            Reader model = new Reader(bytes, 0, bytes.length);
            Field graph = null;
            while (model.more()) {
                int tag = model.tag();
                if (tag >>> 3 == 7 && (tag & 7) == LEN) {
                    if (graph != null) {
                        throw new IllegalArgumentException("the model holds its graph in more than one piece");
                    }
                    graph = model.bytes();
                } else {
                    model.skip(tag);
                }
            }
            if (graph == null) {
                throw new IllegalArgumentException("no graph in the file");
            }
            return parseGraph(bytes, graph);
        } catch (IndexOutOfBoundsException | java.nio.BufferUnderflowException | ArithmeticException e) {
            throw new IllegalArgumentException("corrupt protobuf data (" + e.getMessage() + ")");
        }
    }

    private static OnnxGraph parseGraph(byte[] bytes, Field graph) {
        List<Node> nodes = new ArrayList<>();
        Map<String, Tensor> inits = new HashMap<>();
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        Reader g = new Reader(graph);
        while (g.more()) {
            int tag = g.tag();
            int field = tag >>> 3;
            if ((tag & 7) != LEN || (field != 1 && field != 5 && field != 11 && field != 12)) {
                g.skip(tag);
                continue;
            }
            Field f = g.bytes();
            switch (field) {
                case 1 -> nodes.add(node(f));
                case 5 -> {
                    Tensor t = tensor(f);
                    inits.put(t.name(), t);
                }
                case 11 -> inputs.add(valueInfoName(f));
                default -> outputs.add(valueInfoName(f));
            }
        }
        return new OnnxGraph(bytes, List.copyOf(nodes), inits, List.copyOf(inputs), List.copyOf(outputs));
    }

    private static Node node(Field f) {
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        String name = "";
        String op = "";
        Map<String, long[]> ints = new LinkedHashMap<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Reader r = new Reader(f);
        while (r.more()) {
            int tag = r.tag();
            switch (tag) {
                case (1 << 3) | LEN -> in.add(r.string());
                case (2 << 3) | LEN -> out.add(r.string());
                case (3 << 3) | LEN -> name = r.string();
                case (4 << 3) | LEN -> op = r.string();
                case (5 << 3) | LEN -> attribute(r.bytes(), ints, tensors);
                default -> r.skip(tag);
            }
        }
        return new Node(name, op, List.copyOf(in), List.copyOf(out), ints, tensors);
    }

    /** An {@code AttributeProto}: {@code i} (3), {@code ints} (8) and {@code t} (5) are kept. */
    private static void attribute(Field f, Map<String, long[]> ints, Map<String, Tensor> tensors) {
        Reader r = new Reader(f);
        String name = null;
        List<Long> values = new ArrayList<>();
        Tensor t = null;
        while (r.more()) {
            int tag = r.tag();
            switch (tag) {
                case (1 << 3) | LEN -> name = r.string();
                case (3 << 3) | VARINT, (8 << 3) | VARINT -> values.add(r.varint());
                case (8 << 3) | LEN -> {
                    Reader packed = new Reader(r.bytes());
                    while (packed.more()) {
                        values.add(packed.varint());
                    }
                }
                case (5 << 3) | LEN -> t = tensor(r.bytes());
                default -> r.skip(tag);
            }
        }
        if (name != null && t != null) {
            tensors.put(name, t);
        } else if (name != null && !values.isEmpty()) {
            ints.put(name, values.stream().mapToLong(Long::longValue).toArray());
        }
    }

    /** A {@code TensorProto}: dims (1), data_type (2), the typed data fields, name (8), raw_data (9), data_location (14). */
    private static Tensor tensor(Field f) {
        Reader r = new Reader(f);
        List<Long> dims = new ArrayList<>();
        int type = 0;
        String name = "";
        Field raw = null;
        Field typed = null;
        boolean external = false;
        while (r.more()) {
            int tag = r.tag();
            switch (tag) {
                case (1 << 3) | VARINT -> dims.add(r.varint());
                case (1 << 3) | LEN -> {
                    Reader packed = new Reader(r.bytes());
                    while (packed.more()) {
                        dims.add(packed.varint());
                    }
                }
                case (2 << 3) | VARINT -> type = (int) r.varint();
                case (4 << 3) | LEN, (5 << 3) | LEN, (7 << 3) | LEN, (10 << 3) | LEN -> typed = r.bytes();
                case (8 << 3) | LEN -> name = r.string();
                case (9 << 3) | LEN -> raw = r.bytes();
                case (14 << 3) | VARINT -> external = r.varint() == 1;
                default -> r.skip(tag);
            }
        }
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        for (long x : d) {
            if (x < 0) {
                throw new IllegalArgumentException("tensor " + name + " has a negative dimension " + x);
            }
        }
        return new Tensor(name, d, type, raw, typed, external);
    }

    private static String valueInfoName(Field f) {
        Reader r = new Reader(f);
        while (r.more()) {
            int tag = r.tag();
            if (tag == ((1 << 3) | LEN)) {
                return r.string();
            }
            r.skip(tag);
        }
        return "";
    }

    /** The model's bytes with {@code names} added as graph outputs (already existing ones are not repeated). */
    byte[] withOutputs(List<String> names) {
        java.io.ByteArrayOutputStream graph = new java.io.ByteArrayOutputStream();
        for (String name : names) {
            if (!outputs.contains(name)) {
                byte[] info = field(1, name.getBytes(StandardCharsets.UTF_8));
                graph.writeBytes(field(12, info));
            }
        }
        byte[] extra = field(7, graph.toByteArray());
        byte[] out = java.util.Arrays.copyOf(bytes, bytes.length + extra.length);
        System.arraycopy(extra, 0, out, bytes.length, extra.length);
        return out;
    }

    private static byte[] field(int number, byte[] payload) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        writeVarint(b, ((long) number << 3) | LEN);
        writeVarint(b, payload.length);
        b.writeBytes(payload);
        return b.toByteArray();
    }

    private static void writeVarint(java.io.ByteArrayOutputStream b, long v) {
        while ((v & ~0x7fL) != 0) {
            b.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        b.write((int) v);
    }

    /** The protobuf wire format over a slice of bytes; every length is checked against the slice. */
    private static final class Reader {
        private final byte[] b;
        private int pos;
        private final int end;

        Reader(byte[] b, int offset, int length) {
            this.b = b;
            this.pos = offset;
            this.end = offset + length;
        }

        Reader(Field f) {
            this(f.bytes, f.offset, f.length);
        }

        boolean more() {
            return pos < end;
        }

        int tag() {
            long t = varint();
            if (t <= 0 || t > Integer.MAX_VALUE || (t >>> 3) == 0) {
                throw new IllegalArgumentException("corrupt protobuf data: invalid field tag " + t + " at byte " + pos);
            }
            return (int) t;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte x = next();
                v |= (long) (x & 0x7f) << shift;
                if (x >= 0) {
                    return v;
                }
            }
            throw new IllegalArgumentException("corrupt protobuf data: a varint longer than 10 bytes at byte " + pos);
        }

        int fixed32() {
            int v = 0;
            for (int i = 0; i < 4; i++) {
                v |= (next() & 0xff) << (8 * i);
            }
            return v;
        }

        long fixed64() {
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v |= (long) (next() & 0xff) << (8 * i);
            }
            return v;
        }

        Field bytes() {
            long n = varint();
            if (n < 0 || n > end - pos) {
                throw new IllegalArgumentException("corrupt protobuf data: a field of " + n + " bytes at byte " + pos
                        + " runs past the end of its message (" + (end - pos) + " bytes left)");
            }
            Field f = new Field(b, pos, (int) n);
            pos += (int) n;
            return f;
        }

        String string() {
            Field f = bytes();
            return new String(f.bytes, f.offset, f.length, StandardCharsets.UTF_8);
        }

        void skip(int tag) {
            switch (tag & 7) {
                case VARINT -> varint();
                case FIXED64 -> advance(8);
                case LEN -> bytes();
                case FIXED32 -> advance(4);
                default -> throw new IllegalArgumentException("corrupt protobuf data: wire type " + (tag & 7)
                        + " at byte " + pos);
            }
        }

        private void advance(int n) {
            if (n > end - pos) {
                throw new IllegalArgumentException("corrupt protobuf data: the message ends inside a field");
            }
            pos += n;
        }

        private byte next() {
            if (pos >= end) {
                throw new IllegalArgumentException("corrupt protobuf data: the message ends inside a field");
            }
            return b[pos++];
        }
    }
}
