package dev.headwatch.core;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LayerSpreadTest {

    private static Observation entropies(String layer, double... values) {
        List<HeadRecord> heads = new ArrayList<>();
        for (int h = 0; h < values.length; h++) {
            heads.add(new HeadRecord(layer, h, 4, 2, Visibility.FULL,
                    HeadMetrics.builder().set(HeadField.ENTROPY, values[h]).set(HeadField.SINK_POSITION, h).build()));
        }
        return new Observation(0, 0, Instant.EPOCH, heads);
    }

    @Test
    void evenCount_medianIsTheMeanOfTheMiddleTwo_andNaNIsLeftOut() {
        // sorted defined values 0.2, 0.4, 0.6, 0.8 -> median (0.4 + 0.6) / 2 = 0.5
        List<LayerSpread> spreads = LayerSpread.of(entropies("a", 0.8, Double.NaN, 0.2, 0.6, 0.4));
        assertThat(spreads).containsExactly(new LayerSpread("a", HeadField.ENTROPY, 0.2, 0.5, 0.8));
    }

    @Test
    void infinityCounts_andIndexFieldsAreNotSummarised() {
        List<LayerSpread> spreads = LayerSpread.of(entropies("a", 1, Double.POSITIVE_INFINITY, 0));
        assertThat(spreads).containsExactly(new LayerSpread("a", HeadField.ENTROPY, 0, 1, Double.POSITIVE_INFINITY));
        assertThat(LayerSpread.FIELDS).doesNotContain(HeadField.SINK_POSITION, HeadField.REDUNDANCY_PARTNER)
                .hasSize(HeadField.values().length - 2);
    }

    @Test
    void layerWithNoDefinedValue_hasNoSpread() {
        assertThat(LayerSpread.of(entropies("a", Double.NaN, Double.NaN))).isEmpty();
    }
}
