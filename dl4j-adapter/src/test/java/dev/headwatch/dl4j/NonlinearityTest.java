package dev.headwatch.dl4j;

import dev.headwatch.core.LayerCapture.Nonlinearity;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** A recurrent layer's activation as the core applies it, against DL4J's own on the same values. */
class NonlinearityTest {

    @Test
    void everyMappedActivation_equalsDl4jsOwn_andOthersAreLeftToNaN() {
        List<IActivation> mapped = new ArrayList<>();
        for (Activation a : List.of(Activation.IDENTITY, Activation.TANH, Activation.SIGMOID, Activation.RELU,
                Activation.SOFTSIGN, Activation.SOFTPLUS, Activation.CUBE, Activation.HARDTANH)) {
            mapped.add(a.getActivationFunction());
        }
        mapped.add(new ActivationLReLU(0.3));
        mapped.add(new ActivationELU(0.7));
        double[] x = new double[41];
        for (int i = 0; i < x.length; i++) {
            x[i] = -4 + 0.2 * i;
        }
        for (IActivation a : mapped) {
            Nonlinearity n = LayerReader.nonlinearity(a);
            assertThat(n).as(a.toString()).isNotNull();
            INDArray dl4j = a.getActivation(Nd4j.createFromArray(x).castTo(DataType.DOUBLE), false);
            for (int i = 0; i < x.length; i++) {
                assertThat(n.apply(x[i], LayerReader.alpha(a))).as("%s at %s", a, x[i])
                        .isCloseTo(dl4j.getDouble(i), within(1e-12));
            }
        }
        assertThat(LayerReader.nonlinearity(Activation.SOFTMAX.getActivationFunction())).isNull();
        assertThat(LayerReader.nonlinearity(new ActivationReLU(6.0, 0.0, 0.0))).isNull();
    }
}
