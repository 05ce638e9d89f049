package dev.headwatch.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The reference files in {@code src/test/resources/dev/headwatch/io} were written by NumPy
 * ({@code make_reference.py} there); each holds {@code x[i] = i / 4 - 1} in C order.
 */
class NpyTest {

    private static final String F4_2X3_HEADER =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

    @TempDir
    Path dir;

    // ------------------------------------------------------------ NumPy's own files

    @Test
    void read_numpyFloat32_givesShapeAndValues() {
        INDArray a = Npy.read(reference("f4_2x3.npy"));
        assertThat(a.dataType()).isEqualTo(DataType.FLOAT);
        assertThat(a.shape()).containsExactly(2, 3);
        assertThat(a.data().asFloat()).containsExactly(-1f, -0.75f, -0.5f, -0.25f, 0f, 0.25f);
    }

    @Test
    void read_numpyBigEndianFloat64_givesValues() {
        INDArray a = Npy.read(reference("f8_big_endian_2x3.npy"));
        assertThat(a.dataType()).isEqualTo(DataType.DOUBLE);
        assertThat(a.shape()).containsExactly(2, 3);
        assertThat(a.getDouble(1, 2)).isEqualTo(0.25);
        assertThat(a.data().asDouble()).containsExactly(-1, -0.75, -0.5, -0.25, 0, 0.25);
    }

    @Test
    void read_numpyBigEndianFloat32_rank3_isCOrder() {
        INDArray a = Npy.read(reference("f4_big_endian_2x2x2.npy"));
        assertThat(a.shape()).containsExactly(2, 2, 2);
        // x[1, 0, 1] is element 1*4 + 0*2 + 1 = 5 -> 5/4 - 1
        assertThat(a.getFloat(1, 0, 1)).isEqualTo(0.25f);
    }

    @Test
    void read_numpyVersion2And3_givesValues() {
        assertThat(Npy.read(reference("f8_v2_4.npy")).data().asDouble()).containsExactly(-1, -0.75, -0.5, -0.25);
        INDArray v3 = Npy.read(reference("f4_v3_3.npy"));
        assertThat(v3.shape()).containsExactly(3);
        assertThat(v3.data().asFloat()).containsExactly(-1f, -0.75f, -0.5f);
    }

    @Test
    void read_numpyScalar_isRankZero() {
        INDArray a = Npy.read(reference("f8_scalar.npy"));
        assertThat(a.rank()).isZero();
        assertThat(a.getDouble(0)).isEqualTo(2.5);
    }

    @Test
    void read_numpyEmpty_keepsShape() {
        INDArray a = Npy.read(reference("f4_empty_0x4.npy"));
        assertThat(a.shape()).containsExactly(0, 4);
        assertThat(a.length()).isZero();
        assertThat(Npy.readShape(reference("f4_empty_0x4.npy"))).containsExactly(0, 4);
    }

    @Test
    void read_numpyFortranOrder_isRejected() {
        Path f = reference("f4_fortran_2x3.npy");
        assertRejected(f, "Fortran-order");
    }

    @Test
    void write_float32_isByteIdenticalToNumpySave() throws IOException {
        Path f = dir.resolve("w.npy");
        Npy.write(f, Nd4j.create(new float[] {-1f, -0.75f, -0.5f, -0.25f, 0f, 0.25f}, new long[] {2, 3}, 'c'));
        assertThat(Files.readAllBytes(f)).isEqualTo(Files.readAllBytes(reference("f4_2x3.npy")));
    }

    // ------------------------------------------------------------ round trips

    @Test
    void writeThenRead_float32AndFloat64_allRanks_roundTrip() {
        Random rnd = new Random(7);
        long[][] shapes = {{}, {1}, {5}, {3, 4}, {2, 3, 4}, {2, 1, 3, 2}, {0, 4}, {3, 0}};
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            for (long[] shape : shapes) {
                INDArray a = shape.length == 0 ? Nd4j.scalar(type, rnd.nextGaussian())
                        : Nd4j.rand(type, shape);
                Path f = dir.resolve(type + "-" + shape.length + "-" + a.length() + ".npy");
                Npy.write(f, a);
                INDArray b = Npy.read(f);
                assertThat(b.dataType()).as("%s %s", type, f).isEqualTo(type);
                assertThat(b.shape()).as("%s %s", type, f).containsExactly(shape);
                assertThat(values(b)).as("%s %s", type, f).containsExactly(values(a));
            }
        }
    }

    @Test
    void write_view_writesTheViewsValuesInCOrder() {
        INDArray base = Nd4j.arange(12).castTo(DataType.DOUBLE).reshape('c', 3, 4);
        INDArray transposed = base.transpose();             // [4, 3], f-order view
        Path f = dir.resolve("t.npy");
        Npy.write(f, transposed);
        INDArray back = Npy.read(f);
        assertThat(back.shape()).containsExactly(4, 3);
        // back[i][j] = base[j][i] = 4 j + i
        assertThat(back.getDouble(1, 2)).isEqualTo(9.0);
        assertThat(back.data().asDouble()).startsWith(0, 4, 8, 1, 5, 9);
    }

    @Test
    void write_headerIsVersion1PaddedTo64Bytes() throws IOException {
        Path f = dir.resolve("r6.npy");
        Npy.write(f, Nd4j.create(DataType.FLOAT, 1, 2, 1, 3, 1, 2).assign(3f));
        byte[] bytes = Files.readAllBytes(f);
        assertThat(bytes[6]).isEqualTo((byte) 1);
        int headerLength = ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        assertThat((10 + headerLength) % 64).isZero();
        assertThat(bytes[10 + headerLength - 1]).isEqualTo((byte) '\n');
        assertThat(bytes.length).isEqualTo(10 + headerLength + 12 * 4);
        assertThat(Npy.read(f).sumNumber().doubleValue()).isEqualTo(36.0);
    }

    @Test
    void write_otherDataType_isRejected() {
        assertThatThrownBy(() -> Npy.write(dir.resolve("i.npy"), Nd4j.create(DataType.INT, 2, 2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("i.npy")
                .hasMessageContaining("INT");
    }

    // ------------------------------------------------------------ malformed files

    @Test
    void read_missingFile_namesIt() {
        assertRejected(dir.resolve("nope.npy"), "no such file");
    }

    @Test
    void read_directory_isRejected() {
        assertRejected(dir, "directory");
    }

    @Test
    void read_emptyFile_isRejected() throws IOException {
        assertRejected(write("empty.npy", new byte[0]), "empty");
    }

    @Test
    void read_textFile_isNotNpy() throws IOException {
        assertRejected(write("text.npy", "hello world\n".getBytes(StandardCharsets.US_ASCII)), "not a NumPy .npy file");
    }

    @Test
    void read_fileEndingInsideMagicOrVersion_isRejected() throws IOException {
        assertRejected(write("m.npy", new byte[] {(byte) 0x93, 'N', 'U'}), "not a NumPy .npy file");
        assertRejected(write("v.npy", new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1}), "truncated");
    }

    @Test
    void read_unknownVersion_isRejected() throws IOException {
        assertRejected(write("v4.npy", npy(4, F4_2X3_HEADER, floats(6))), "version 4.0");
        assertRejected(write("v11.npy", npy(1, F4_2X3_HEADER, floats(6), 1)), "version 1.1");
    }

    @Test
    void read_fileEndingInsideHeaderLength_isRejected() throws IOException {
        assertRejected(write("l.npy", new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 10, 0}), "truncated");
    }

    @Test
    void read_headerLongerThanFile_isTruncated() throws IOException {
        byte[] full = npy(1, F4_2X3_HEADER, floats(6));
        assertRejected(write("h.npy", java.util.Arrays.copyOf(full, 40)), "truncated");
    }

    @Test
    void read_absurdHeaderLength_isRejected() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(0x7fffffff);
        assertRejected(write("big.npy", b.array()), "header length 2147483647 is absurd");
    }

    @Test
    void read_truncatedData_saysHowMuchIsMissing() throws IOException {
        // (2, 3) float32 needs 24 bytes of data; 20 are there.
        assertRejected(write("t.npy", npy(1, F4_2X3_HEADER, floats(5))), "truncated", "needs 24 bytes", "but 20");
    }

    @Test
    void read_dataLongerThanShape_isAHeaderLie() throws IOException {
        assertRejected(write("lie.npy", npy(1, F4_2X3_HEADER, floats(10))), "header does not match the data",
                "needs 24 bytes", "but 40");
    }

    @Test
    void read_otherDtypes_areRejected() throws IOException {
        assertRejected(write("i4.npy", npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", floats(2))),
                "unsupported dtype '<i4'");
        assertRejected(write("f2.npy", npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", new byte[4])),
                "unsupported dtype '<f2'");
        assertRejected(write("o.npy", npy(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", new byte[16])),
                "object arrays");
        assertRejected(write("s.npy", npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                floats(2))), "structured dtypes");
    }

    @Test
    void readIntegers_int32AndBigEndianInt64_giveTheValuesAsLong() throws IOException {
        ByteBuffer i4 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(101).putInt(-7).putInt(0).putInt(2023);
        INDArray a = Npy.readIntegers(write("i4.npy", npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }",
                i4.array())));
        assertThat(a.dataType()).isEqualTo(org.nd4j.linalg.api.buffer.DataType.LONG);
        assertThat(a.shape()).containsExactly(2, 2);
        assertThat(a.reshape(4).toLongVector()).containsExactly(101, -7, 0, 2023);
        ByteBuffer i8 = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN).putLong(1L << 40).putLong(-1);
        INDArray b = Npy.readIntegers(write("i8.npy", npy(1, "{'descr': '>i8', 'fortran_order': False, 'shape': (1, 2), }",
                i8.array())));
        assertThat(b.reshape(2).toLongVector()).containsExactly(1L << 40, -1);
    }

    @Test
    void readIntegers_floats_areRejected() throws IOException {
        Path f = write("f4.npy", npy(1, F4_2X3_HEADER, floats(6)));
        assertThatThrownBy(() -> Npy.readIntegers(f)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported dtype '<f4'").hasMessageContaining("int32 or int64");
    }

    @Test
    void read_fortranOrderHeader_isRejected() throws IOException {
        assertRejected(write("f.npy", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floats(6))),
                "Fortran-order");
    }

    @Test
    void read_malformedHeaders_areRejected() throws IOException {
        String[] headers = {
                "{'descr': '<f4', 'shape': (2, 3), }",                                       // missing key
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1, }",       // extra key
                "['descr', '<f4']",                                                           // not a dict
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}",                   // bad tuple
                "{'descr': '<f4', 'fortran_order': False, 'shape': '(2, 3)', }",              // shape not a tuple
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }",                    // not a bool
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3.5), }",              // float dim
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } trailing",       // junk
                "{'descr: '<f4', 'fortran_order': False, 'shape': (2, 3), }",                 // bad quote
        };
        for (int i = 0; i < headers.length; i++) {
            assertRejected(write("bad" + i + ".npy", npy(1, headers[i], floats(6))), "malformed header");
        }
    }

    @Test
    void read_negativeDimension_isRejected() throws IOException {
        assertRejected(write("neg.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }",
                floats(6))), "non-negative");
    }

    @Test
    void read_absurdShapes_areRejectedBeforeAllocating() throws IOException {
        assertRejected(write("huge.npy", npy(1,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", floats(2))),
                "absurd");
        assertRejected(write("overflow.npy", npy(1,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 2), }", floats(2))),
                "absurd");
        assertRejected(write("toolong.npy", npy(1,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", floats(2))),
                "out of range");
        // within the element limit but more than the file holds
        assertRejected(write("lies.npy", npy(1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }", floats(2))),
                "truncated");
    }

    @Test
    void readShape_checksTheDataLength() throws IOException {
        Path ok = write("ok.npy", npy(1, F4_2X3_HEADER, floats(6)));
        assertThat(Npy.readShape(ok)).containsExactly(2, 3);
        Path shortFile = write("short.npy", npy(1, F4_2X3_HEADER, floats(2)));
        assertThatThrownBy(() -> Npy.readShape(shortFile)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("truncated");
    }

    // ------------------------------------------------------------ helpers

    /** Reading fails with a one-line message that starts with the file and contains every fragment. */
    private static void assertRejected(Path file, String... fragments) {
        assertThatThrownBy(() -> Npy.read(file))
                .isInstanceOf(IllegalArgumentException.class)
                .satisfies(e -> {
                    assertThat(e.getMessage()).startsWith(file + ": ").doesNotContain("\n");
                    for (String fragment : fragments) {
                        assertThat(e.getMessage()).contains(fragment);
                    }
                });
    }

    private static double[] values(INDArray a) {
        return a.length() == 0 ? new double[0] : a.dup('c').data().asDouble();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    /** A file with the given version and header text (padded like NumPy) followed by {@code data}. */
    static byte[] npy(int major, String header, byte[] data) {
        return npy(major, header, data, 0);
    }

    static byte[] npy(int major, String header, byte[] data, int minor) {
        int lengthBytes = major == 1 ? 2 : 4;
        StringBuilder h = new StringBuilder(header);
        while ((8 + lengthBytes + h.length() + 1) % 64 != 0) {
            h.append(' ');
        }
        h.append('\n');
        byte[] text = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, (byte) minor});
        ByteBuffer len = ByteBuffer.allocate(lengthBytes).order(ByteOrder.LITTLE_ENDIAN);
        if (lengthBytes == 2) {
            len.putShort((short) text.length);
        } else {
            len.putInt(text.length);
        }
        out.writeBytes(len.array());
        out.writeBytes(text);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** {@code count} little-endian float32 values 0, 1, 2, ... */
    static byte[] floats(int count) {
        ByteBuffer b = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            b.putFloat(i);
        }
        return b.array();
    }

    private static Path reference(String name) {
        try {
            return Path.of(NpyTest.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
