package dev.headwatch.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.headwatch.core.math.Alignment;
import org.junit.jupiter.api.Test;

class AlignmentTest {

    @Test
    void alignment_isCosineUpToSign() {
        assertThat(Alignment.alignment(new double[] {1, 0}, new double[] {-2, 0})).isEqualTo(1.0);
        // (1, 1) . (1, 0) / (sqrt 2 * 1) = 1/sqrt 2
        assertThat(Alignment.alignment(new double[] {1, 1}, new double[] {1, 0})).isCloseTo(Math.sqrt(0.5), within(1e-15));
        assertThat(Alignment.alignment(new double[] {0, 0}, new double[] {1, 0})).isNaN();
    }

    @Test
    void principalCosines_ofCoordinatePlanes() {
        // span{e1, e2} and span{e1 + e3, e2 + e3... }: take span{e1, e3}: shared e1 (cos 1), e2 _|_ e3 (cos 0)
        double[][] a = {{1, 0, 0}, {0, 1, 0}};
        double[][] b = {{2, 0, 0}, {1, 0, 1}, {0, 0, 3}}; // dependent spanning set of span{e1, e3}
        assertThat(Alignment.principalCosines(a, b)).containsExactly(new double[] {1, 0}, within(1e-14));
        // a line at 60 degrees to the plane z = 0: (1, 0, sqrt 3) has cosine 1/2 with its projection e1
        assertThat(Alignment.principalCosines(new double[][] {{1, 0, Math.sqrt(3)}}, a))
                .containsExactly(new double[] {0.5}, within(1e-14));
    }

    @Test
    void kappa_specialisation_redundancy() {
        double[][] features = {{1, 0, 0}, {0, 1, 0}};
        double[][] heads = {{0.9, 0.1, 0}, {0.1, 1, 0.2}, {0, 0, 1}, {1, 0.05, 0}};
        double[][] kappa = Alignment.kappa(heads, features);
        assertThat(kappa[0][0]).isCloseTo(0.9 / Math.sqrt(0.82), within(1e-15));
        int[] spec = Alignment.specialisation(kappa, Alignment.SPECIALISED);
        // head 2 is orthogonal to both features: unspecialised
        assertThat(spec).containsExactly(0, 1, -1, 0);
        assertThat(Alignment.redundant(spec)).containsExactly(true, false, false, true);
    }
}
