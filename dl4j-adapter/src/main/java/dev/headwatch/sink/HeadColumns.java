package dev.headwatch.sink;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The columns of one per-head record, shared by the JSON Lines and CSV sinks: {@code step, epoch, layer,
 * head, n, d, mask, time} (ISO-8601), then every {@link HeadField} by its name; NaN is {@code null}.
 */
final class HeadColumns {

    static final List<String> NAMES;

    static {
        List<String> names = new ArrayList<>(List.of("step", "epoch", "layer", "head", "n", "d", "mask", "time"));
        for (HeadField f : HeadField.values()) {
            names.add(f.fieldName());
        }
        NAMES = Collections.unmodifiableList(names);
    }

    private HeadColumns() {
    }

    /** The record of one head, in column order. */
    static Map<String, Object> row(Observation o, HeadRecord r) {
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
        return row;
    }
}
