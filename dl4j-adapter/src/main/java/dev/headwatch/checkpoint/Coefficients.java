package dev.headwatch.checkpoint;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Reads the flat parameter vector of a {@code ModelSerializer} zip ({@code coefficients.bin}, written by
 * {@code Nd4j.write}). The two buffer headers (shape information, then data) are checked against the
 * bytes actually present before {@code Nd4j.read} allocates anything, so a forged length cannot make it
 * allocate gigabytes or read past the end.
 */
final class Coefficients {

    private static final int MAX_RANK = 32;

    private Coefficients() {
    }

    static INDArray read(Path file, byte[] bytes) throws CheckpointException {
        check(file, bytes);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            return Nd4j.read(in);
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(file, "coefficients.bin is corrupt (" + e.getMessage() + ")", e);
        }
    }

    private static void check(Path file, byte[] bytes) throws CheckpointException {
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
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(file, "coefficients.bin is corrupt or truncated (" + e + ")", e);
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
