package dev.headwatch.checkpoint;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CoefficientsTest {

    private static final Path FILE = Path.of("model.zip");

    @Test
    void read_equalsNd4jRead_forEveryLayoutAndType() throws Exception {
        Nd4j.getRandom().setSeed(3);
        INDArray[] arrays = {
                Nd4j.randn(DataType.FLOAT, 1, 1000),                      // what ModelSerializer writes
                Nd4j.randn(DataType.DOUBLE, 3, 4, 5),
                Nd4j.randn(DataType.FLOAT, 'f', 6, 7),                    // Fortran order
                Nd4j.randn(DataType.FLOAT, 6, 7).transpose(),            // non-default strides: Nd4j.read path
                Nd4j.randn(DataType.HALF, 2, 9),                          // not float/double: Nd4j.read path
        };
        for (INDArray a : arrays) {
            byte[] bytes = written(a);
            INDArray read = Coefficients.read(FILE, bytes);
            INDArray reference = Nd4j.read(new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes)));
            assertThat(read.dataType()).isEqualTo(reference.dataType());
            assertThat(read.shape()).isEqualTo(reference.shape());
            assertThat(read.ordering()).isEqualTo(reference.ordering());
            assertThat(read.stride()).isEqualTo(reference.stride());
            assertThat(read.ravel().toDoubleVector()).as("values of %s", a.shapeInfoToString())
                    .containsExactly(reference.ravel().toDoubleVector())
                    .containsExactly(a.ravel().toDoubleVector());
        }
    }

    private static byte[] written(INDArray a) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DataOutputStream d = new DataOutputStream(out)) {
            Nd4j.write(a, d);
        }
        return out.toByteArray();
    }
}
