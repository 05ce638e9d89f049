package dev.headwatch.core.sink;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.WeightField;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The columns of one per-head record, shared by the JSON Lines and CSV sinks: {@code step, epoch, layer,
 * head, n, d, mask, time} (ISO-8601), then every {@link HeadField} by its name, then the weight-only
 * {@code qkSpectralNorm} (empty where the adapter did not read the weights); NaN is {@code null}.
 * Public for sinks in other modules that write the same record with columns of their own.
 */
public final class HeadColumns {

    static final String QK_SPECTRAL_NORM = WeightField.QK_SPECTRAL_NORM.fieldName();
    static final List<String> NAMES;

    static {
        List<String> names = new ArrayList<>(List.of("step", "epoch", "layer", "head", "n", "d", "mask", "time"));
        for (HeadField f : HeadField.values()) {
            names.add(f.fieldName());
        }
        names.add(QK_SPECTRAL_NORM);
        NAMES = Collections.unmodifiableList(names);
    }

    private HeadColumns() {
    }

    /** The record of one head, in column order. */
    public static Map<String, Object> row(Observation o, HeadRecord r) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("step", o.step());
        row.put("epoch", o.epoch());
        row.put("layer", r.layer());
        row.put("head", r.head());
        row.put("n", r.n());
        row.put("d", r.d());
        row.put("mask", r.mask().label());
        row.put("time", o.time().toString());
        row.putAll(r.metrics().toMap());
        row.put(QK_SPECTRAL_NORM, Double.isNaN(r.qkSpectralNorm()) ? null : r.qkSpectralNorm());
        return row;
    }
}
