package dev.headwatch.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0) holding float32 or
 * float64 arrays in C order, either byte order; what {@code numpy.save} writes for such arrays.
 *
 * <p>Writing is ND4J's ({@code Nd4j.writeAsNumpy}). Reading is by hand because ND4J's reader
 * ({@code Nd4j.createFromNpyFile}, native cnpy, 1.0.0-M2.1) cannot be given a file from elsewhere: it
 * refuses format versions 2.0 and 3.0, reads a Fortran-order file as if it were C order (wrong values, no
 * error), and a big-endian file fails a native assertion that aborts the JVM. This reader checks the whole
 * header against the file before it allocates anything, so a truncated or forged file is one line of error.
 *
 * <p>Everything wrong with a file (missing, not a regular file, not {@code .npy}, truncated, a header
 * that does not match the data, Fortran order, another dtype, an absurd shape) is an
 * {@link IllegalArgumentException} whose one-line message starts with the file name and names the
 * problem. Other I/O failures are {@link UncheckedIOException}s.
 *
 * @see <a href="https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html">numpy.lib.format</a>
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy's own loader refuses longer headers by default; we allow more but stay bounded. */
    private static final int MAX_HEADER_LENGTH = 1 << 20;
    /** NumPy's NPY_MAXDIMS. */
    private static final int MAX_RANK = 64;
    /** The largest Java array. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    private static final int CHUNK_BYTES = 1 << 20;

    private Npy() {
    }

    /**
     * Reads an array. The result has the file's shape (rank 0 for a NumPy scalar; a zero in the shape
     * gives an empty array of that shape) and data type {@code FLOAT} or {@code DOUBLE}.
     *
     * @throws IllegalArgumentException naming the file and the problem when the file is missing or not
     *                                  a supported {@code .npy} file
     */
    public static INDArray read(Path file) {
        try (FileChannel ch = open(file)) {
            Header h = readHeader(file, ch, false);
            ch.position(h.dataOffset);
            return readData(file, ch, h);
        } catch (IOException e) {
            throw io(file, e);
        }
    }

    /**
     * Reads an integer array (int32 or int64, either byte order, C order), e.g. token ids, as {@code LONG}.
     *
     * @throws IllegalArgumentException as {@link #read(Path)}, and for a file of another dtype
     */
    public static INDArray readIntegers(Path file) {
        try (FileChannel ch = open(file)) {
            Header h = readHeader(file, ch, true);
            ch.position(h.dataOffset);
            return readData(file, ch, h);
        } catch (IOException e) {
            throw io(file, e);
        }
    }

    /**
     * Reads only the shape from the header (the data is not read, but its length is checked against
     * the file size).
     *
     * @throws IllegalArgumentException as {@link #read(Path)}
     */
    public static long[] readShape(Path file) {
        try (FileChannel ch = open(file)) {
            return readHeader(file, ch, false).shape.clone();
        } catch (IOException e) {
            throw io(file, e);
        }
    }

    /**
     * Writes a float32 or float64 array as a version 1.0 file, little-endian, C order, byte for byte
     * as {@code numpy.save} does. Views are written with their own values.
     *
     * @throws IllegalArgumentException when the array is neither {@code FLOAT} nor {@code DOUBLE}
     */
    public static void write(Path file, INDArray array) {
        DataType type = array.dataType();
        if (type != DataType.FLOAT && type != DataType.DOUBLE) {
            throw new IllegalArgumentException(file + ": can only write FLOAT or DOUBLE arrays but got " + type);
        }
        try {
            // ND4J writes a view's buffer as it lies, strides ignored: dup('c') gives exactly its values.
            Nd4j.writeAsNumpy(array.dup('c'), file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- reading

    private static FileChannel open(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw fail(file, "is a directory, not a .npy file");
        }
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw fail(file, "no such file");
        } catch (AccessDeniedException e) {
            throw fail(file, "permission denied");
        }
    }

    private static UncheckedIOException io(Path file, IOException e) {
        return new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }

    private static IllegalArgumentException fail(Path file, String problem) {
        return new IllegalArgumentException(file + ": " + problem);
    }

    /** What the header says. */
    private record Header(int itemSize, boolean integer, ByteOrder order, long[] shape, long elements, long dataOffset) {
        long dataBytes() {
            return elements * itemSize;
        }

        String typeName() {
            return (integer ? "int" : "float") + itemSize * 8;
        }

        String shapeText() {
            return tupleText(shape);
        }
    }

    private static Header readHeader(Path file, FileChannel ch, boolean integers) throws IOException {
        ByteBuffer prefix = ByteBuffer.allocate(8);
        readUpTo(ch, prefix);
        if (prefix.position() == 0) {
            throw fail(file, "is empty, not a NumPy .npy file");
        }
        if (prefix.position() < MAGIC.length
                || !Arrays.equals(Arrays.copyOf(prefix.array(), MAGIC.length), MAGIC)) {
            throw fail(file, "not a NumPy .npy file (no \\x93NUMPY magic at the start)");
        }
        if (prefix.position() < 8) {
            throw fail(file, "truncated: the file ends inside the format version");
        }
        int major = prefix.get(6) & 0xff;
        int minor = prefix.get(7) & 0xff;
        if (major < 1 || major > 3 || minor != 0) {
            throw fail(file, "unsupported .npy format version " + major + "." + minor + " (expected 1.0, 2.0 or 3.0)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        readUpTo(ch, lenBuf);
        if (lenBuf.hasRemaining()) {
            throw fail(file, "truncated: the file ends inside the header length");
        }
        long headerLength = major == 1 ? lenBuf.getShort(0) & 0xffff : lenBuf.getInt(0) & 0xffffffffL;
        long dataOffset = 8 + lenBuf.capacity() + headerLength;
        if (headerLength > MAX_HEADER_LENGTH) {
            throw fail(file, "header length " + headerLength + " is absurd (limit " + MAX_HEADER_LENGTH + ")");
        }
        if (dataOffset > ch.size()) {
            throw fail(file, "truncated: the header says it is " + headerLength + " bytes but the file has "
                    + (ch.size() - 8 - lenBuf.capacity()) + " after the header length");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLength);
        readUpTo(ch, headerBuf);
        String text = new String(headerBuf.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            dict = new LiteralParser(text).dict();
        } catch (IllegalStateException e) {
            throw fail(file, "malformed header: " + e.getMessage());
        }
        if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
            throw fail(file, "malformed header: expected the keys descr, fortran_order and shape but found "
                    + dict.keySet());
        }
        Object descr = dict.get("descr");
        if (!(descr instanceof String d)) {
            throw fail(file, "structured dtypes are not supported (descr " + LiteralParser.show(descr)
                    + "); expected float32 or float64");
        }
        if (d.length() >= 2 && d.charAt(1) == 'O') {
            throw fail(file, "object arrays are not supported; expected float32 or float64");
        }
        char kind = integers ? 'i' : 'f';
        String expected = integers ? "int32 or int64 ('<i4', '>i4', '<i8', '>i8')"
                : "float32 or float64 ('<f4', '>f4', '<f8', '>f8')";
        if (d.length() != 3 || (d.charAt(0) != '<' && d.charAt(0) != '>') || d.charAt(1) != kind
                || (d.charAt(2) != '4' && d.charAt(2) != '8')) {
            throw fail(file, "unsupported dtype '" + d + "'; expected " + expected);
        }
        int itemSize = d.charAt(2) - '0';
        ByteOrder order = d.charAt(0) == '<' ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        Object fortran = dict.get("fortran_order");
        if (!(fortran instanceof Boolean f)) {
            throw fail(file, "malformed header: fortran_order is " + LiteralParser.show(fortran) + ", not True or False");
        }
        if (f) {
            throw fail(file, "Fortran-order arrays are not supported; save a C-order array (numpy.ascontiguousarray)");
        }
        if (!(dict.get("shape") instanceof List<?> dims)) {
            throw fail(file, "malformed header: shape is " + LiteralParser.show(dict.get("shape")) + ", not a tuple");
        }
        if (dims.size() > MAX_RANK) {
            throw fail(file, "shape has " + dims.size() + " dimensions (limit " + MAX_RANK + ")");
        }
        long[] shape = new long[dims.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long dim) || dim < 0) {
                throw fail(file, "malformed header: shape " + LiteralParser.show(dims)
                        + " must hold non-negative integers");
            }
            shape[i] = dim;
            try {
                elements = Math.multiplyExact(elements, dim);
            } catch (ArithmeticException e) {
                elements = Long.MAX_VALUE;
            }
        }
        if (elements > MAX_ELEMENTS) {
            throw fail(file, "shape " + tupleText(shape) + " is absurd: more than " + MAX_ELEMENTS + " elements");
        }
        Header h = new Header(itemSize, integers, order, shape, elements, dataOffset);
        long have = ch.size() - dataOffset;
        if (have != h.dataBytes()) {
            throw fail(file, (have < h.dataBytes() ? "truncated: " : "header does not match the data: ")
                    + "shape " + h.shapeText() + " " + h.typeName() + " needs " + h.dataBytes()
                    + " bytes of data but " + have + " follow the header");
        }
        return h;
    }

    private static INDArray readData(Path file, FileChannel ch, Header h) throws IOException {
        int n = (int) h.elements;
        if (h.integer) {
            return readLongs(file, ch, h);
        }
        DataType type = h.itemSize == 4 ? DataType.FLOAT : DataType.DOUBLE;
        if (n == 0) {
            return Nd4j.create(type, h.shape);
        }
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(h.order);
        float[] floats = h.itemSize == 4 ? new float[n] : null;
        double[] doubles = h.itemSize == 8 ? new double[n] : null;
        int done = 0;
        while (done < n) {
            int count = Math.min(n - done, CHUNK_BYTES / h.itemSize);
            buf.clear().limit(count * h.itemSize);
            readUpTo(ch, buf);
            if (buf.hasRemaining()) {
                throw fail(file, "truncated: the file ended while reading element " + done);
            }
            buf.flip();
            if (floats != null) {
                buf.asFloatBuffer().get(floats, done, count);
            } else {
                buf.asDoubleBuffer().get(doubles, done, count);
            }
            done += count;
        }
        if (h.shape.length == 0) {
            return floats != null ? Nd4j.scalar(floats[0]) : Nd4j.scalar(doubles[0]);
        }
        return floats != null ? Nd4j.create(floats, h.shape, 'c') : Nd4j.create(doubles, h.shape, 'c');
    }

    /** int32 or int64 data, widened to {@code LONG}. */
    private static INDArray readLongs(Path file, FileChannel ch, Header h) throws IOException {
        int n = (int) h.elements;
        long[] values = new long[n];
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(h.order);
        for (int done = 0; done < n; ) {
            int count = Math.min(n - done, CHUNK_BYTES / h.itemSize);
            buf.clear().limit(count * h.itemSize);
            readUpTo(ch, buf);
            if (buf.hasRemaining()) {
                throw fail(file, "truncated: the file ended while reading element " + done);
            }
            buf.flip();
            for (int i = 0; i < count; i++) {
                values[done + i] = h.itemSize == 4 ? buf.getInt() : buf.getLong();
            }
            done += count;
        }
        return Nd4j.createFromArray(values).reshape(h.shape);
    }

    /** Reads until the buffer is full or the file ends. */
    private static void readUpTo(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining() && ch.read(buf) >= 0) {
            // keep reading
        }
    }

    /** A shape as a Python tuple: {@code ()}, {@code (3,)}, {@code (3, 4)}. */
    private static String tupleText(long[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(i > 0 ? ", " : "").append(shape[i]);
        }
        return s.append(')').toString();
    }

    /**
     * The subset of Python literal syntax that {@code .npy} headers use: a dict of string keys whose
     * values are strings, {@code True}/{@code False}, integers, tuples and lists. Strings map to
     * {@link String}, booleans to {@link Boolean}, integers to {@link Long} (overflow is an error),
     * tuples and lists to {@link List}. Errors are {@link IllegalStateException}s.
     */
    private static final class LiteralParser {
        private final String s;
        private int pos;

        LiteralParser(String s) {
            this.s = s;
        }

        Map<String, Object> dict() {
            skipSpace();
            expect('{');
            Map<String, Object> map = new LinkedHashMap<>();
            skipSpace();
            while (peek() != '}') {
                Object key = value();
                if (!(key instanceof String k)) {
                    throw new IllegalStateException("dict key " + show(key) + " is not a string");
                }
                skipSpace();
                expect(':');
                if (map.put(k, value()) != null) {
                    throw new IllegalStateException("duplicate key '" + k + "'");
                }
                skipSpace();
                if (peek() != '}') {
                    expect(',');
                    skipSpace();
                }
            }
            expect('}');
            skipSpace();
            if (pos != s.length()) {
                throw new IllegalStateException("unexpected text after the dict at offset " + pos);
            }
            return map;
        }

        private Object value() {
            skipSpace();
            char c = peek();
            if (c == '\'' || c == '"') {
                int end = s.indexOf(c, pos + 1);
                if (end < 0) {
                    throw new IllegalStateException("unterminated string at offset " + pos);
                }
                String str = s.substring(pos + 1, end);
                pos = end + 1;
                return str;
            }
            if (c == '(' || c == '[') {
                char close = c == '(' ? ')' : ']';
                pos++;
                List<Object> items = new ArrayList<>();
                skipSpace();
                while (peek() != close) {
                    items.add(value());
                    skipSpace();
                    if (peek() != close) {
                        expect(',');
                        skipSpace();
                    }
                }
                pos++;
                return items;
            }
            if (s.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            int start = pos;
            if (c == '-') {
                pos++;
            }
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                pos++;
            }
            if (pos < s.length() && s.charAt(pos) == 'L') {
                pos++; // Python 2 long literal, written by old NumPy versions
            }
            String digits = s.substring(start, pos).replace("L", "");
            if (digits.isEmpty() || digits.equals("-")) {
                throw new IllegalStateException("unexpected character '" + c + "' at offset " + start);
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw new IllegalStateException("integer " + digits + " is out of range");
            }
        }

        private char peek() {
            if (pos >= s.length()) {
                throw new IllegalStateException("the header ends early");
            }
            return s.charAt(pos);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new IllegalStateException("expected '" + c + "' at offset " + pos + " but found '" + peek() + "'");
            }
            pos++;
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        static String show(Object o) {
            if (o instanceof String str) {
                return "'" + str + "'";
            }
            if (o instanceof List<?> list) {
                StringBuilder b = new StringBuilder("(");
                for (int i = 0; i < list.size(); i++) {
                    b.append(i > 0 ? ", " : "").append(show(list.get(i)));
                }
                return b.append(')').toString();
            }
            return String.valueOf(o);
        }
    }
}
