package dev.headwatch.checkpoint;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads the flat parameter vector of a {@code ModelSerializer} zip ({@code coefficients.bin}, written by
 * {@code Nd4j.write}). The two buffer headers (shape information, then data) are checked against the
 * bytes actually present before {@code Nd4j.read} allocates anything, so a forged length cannot make it
 * allocate gigabytes or read past the end. A float or double array with the default strides of its
 * order (what {@code ModelSerializer} writes) is copied in bulk: {@code Nd4j.read} puts one big-endian
 * value at a time, which costs more than the rest of loading the model.
 */
final class Coefficients {

    private static final int MAX_RANK = 32;

    private Coefficients() {
    }

    static INDArray read(Path file, byte[] bytes) throws CheckpointException {
        Layout layout = check(file, bytes);
        if (layout.bulk) {
            return bulk(layout, bytes);
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            return Nd4j.read(in);
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(file, "coefficients.bin is corrupt (" + e.getMessage() + ")", e);
        }
    }

    /** The values (big-endian, from {@code dataStart}) copied into a fresh array of the stored shape and order. */
    private static INDArray bulk(Layout layout, byte[] bytes) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray out = Nd4j.createUninitialized(layout.type, layout.shape, layout.order);
            ByteBuffer src = ByteBuffer.wrap(bytes, layout.dataStart, bytes.length - layout.dataStart).order(ByteOrder.BIG_ENDIAN);
            ByteBuffer dst = out.data().asNio().order(ByteOrder.nativeOrder());
            int n = (int) out.length();
            if (layout.type == DataType.FLOAT) {
                dst.asFloatBuffer().put(src.asFloatBuffer().limit(n));
            } else {
                dst.asDoubleBuffer().put(src.asDoubleBuffer().limit(n));
            }
            return out;
        }
    }

    private static Layout check(Path file, byte[] bytes) throws CheckpointException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            Header shapeHeader = header(in);
            if (shapeHeader.type != DataType.LONG && shapeHeader.type != DataType.INT) {
                throw bad(file, "shape buffer of type " + shapeHeader.type);
            }
            if (shapeHeader.length < 4 || shapeHeader.length > 2L * MAX_RANK + 4) {
                throw bad(file, "shape buffer of length " + shapeHeader.length);
            }
            long[] info = new long[(int) shapeHeader.length];
            for (int i = 0; i < info.length; i++) {
                info[i] = shapeHeader.type == DataType.LONG ? in.readLong() : in.readInt();
            }
            long rank = info[0];
            if (rank < 0 || rank > MAX_RANK || info.length != 2 * rank + 4) {
                throw bad(file, "rank " + rank + " with a shape buffer of length " + info.length);
            }
            long elements = 1;
            for (int i = 1; i <= rank; i++) {
                if (info[i] < 0 || (info[i] > 0 && elements > Long.MAX_VALUE / info[i])) {
                    throw bad(file, "dimension " + info[i]);
                }
                elements *= info[i];
            }
            Header dataHeader = header(in);
            int width = width(dataHeader.type);
            if (width <= 0) {
                throw bad(file, "data of type " + dataHeader.type);
            }
            if (dataHeader.length != elements) {
                throw bad(file, "data length " + dataHeader.length + " for a shape of " + elements + " elements");
            }
            long present = in.available();
            if (dataHeader.length > present / width) {
                throw new CheckpointException(file, "coefficients.bin is truncated: " + dataHeader.length + " values of "
                        + dataHeader.type + " declared but only " + present + " bytes follow");
            }
            int r = (int) rank;
            long[] shape = Arrays.copyOfRange(info, 1, r + 1);
            long[] stride = Arrays.copyOfRange(info, r + 1, 2 * r + 1);
            char order = (char) info[2 * r + 3];
            boolean bulk = (dataHeader.type == DataType.FLOAT || dataHeader.type == DataType.DOUBLE)
                    && r >= 1 && elements > 0 && elements <= Integer.MAX_VALUE && (order == 'c' || order == 'f')
                    && Arrays.equals(stride, Nd4j.getStrides(shape, order));
            return new Layout(bulk, dataHeader.type, shape, order, (int) (bytes.length - present));
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(file, "coefficients.bin is corrupt or truncated (" + e + ")", e);
        }
    }

    /** What {@link #check} learnt: whether the bulk copy applies, and where the values start. */
    private static final class Layout {
        final boolean bulk;
        final DataType type;
        final long[] shape;
        final char order;
        final int dataStart;

        Layout(boolean bulk, DataType type, long[] shape, char order, int dataStart) {
            this.bulk = bulk;
            this.type = type;
            this.shape = shape;
            this.order = order;
            this.dataStart = dataStart;
        }
    }

    private static CheckpointException bad(Path file, String what) {
        return new CheckpointException(file, "coefficients.bin is corrupt: " + what);
    }

    private static Header header(DataInputStream in) throws IOException {
        DataBuffer.AllocationMode mode = DataBuffer.AllocationMode.valueOf(in.readUTF());
        long length = mode.ordinal() < 3 ? in.readInt() : in.readLong();
        DataType type = DataType.valueOf(in.readUTF());
        if (length < 0) {
            throw new IOException("negative buffer length " + length);
        }
        return new Header(length, type);
    }

    private static int width(DataType type) {
        return switch (type) {
            case DOUBLE, FLOAT, HALF, BFLOAT16 -> type.width();
            default -> -1;
        };
    }

    private record Header(long length, DataType type) {
    }
}
