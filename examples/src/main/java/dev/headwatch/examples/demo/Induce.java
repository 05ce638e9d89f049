package dev.headwatch.examples.demo;

import java.util.Locale;
import java.util.function.ObjIntConsumer;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Breaks one head of the demo on purpose from a given iteration on, so that a user sees an alert fire on a
 * real run. Head h of a layer owns columns {@code [h*headDim, (h+1)*headDim)} of that layer's projections.
 */
public enum Induce {
    /** Query weights of the head scaled by {@value #SCALE}: its logits grow, attention turns one-hot. */
    ENTROPY_COLLAPSE,
    /** Query weights of the head held at zero: uniform attention over the visible keys, no energy. */
    DEAD_HEAD,
    /** Query and key weights of head 1 held equal to head 0's: two heads with one energy field. */
    REDUNDANT_HEAD;

    static final float SCALE = 30f;

    /** Parses an alert name as written in METRICS.md, e.g. {@code ENTROPY_COLLAPSE} or {@code entropy-collapse}. */
    public static Induce parse(String alert) {
        String key = alert.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (Induce i : values()) {
            if (i.name().equals(key)) {
                return i;
            }
        }
        throw new IllegalArgumentException("cannot induce '" + alert + "': choose one of "
                + java.util.Arrays.toString(values()));
    }

    /** A listener that applies this break to {@code layer} from iteration {@code from} on. */
    BaseListener at(GptConfig c, int layer, int from) {
        if (this == REDUNDANT_HEAD && c.heads() < 2) {
            throw new IllegalArgumentException("REDUNDANT_HEAD needs at least 2 heads but the model has " + c.heads());
        }
        return before(from, (sd, it) -> {
            INDArray wq = sd.getVariable(TinyGpt.var(layer, "Wq")).getArr();
            INDArray wk = sd.getVariable(TinyGpt.var(layer, "Wk")).getArr();
            switch (this) {
                case ENTROPY_COLLAPSE -> {
                    if (it == from) {
                        columns(wq, c, 0).muli(SCALE);
                    }
                }
                case DEAD_HEAD -> columns(wq, c, 0).assign(0);
                case REDUNDANT_HEAD -> {
                    columns(wq, c, 1).assign(columns(wq, c, 0));
                    columns(wk, c, 1).assign(columns(wk, c, 0));
                }
                default -> throw new IllegalStateException(name());
            }
        });
    }

    /**
     * A listener that hands {@code change} the model and the iteration about to run, before every training
     * iteration from {@code from} on (at the end of the one before, once its update is applied).
     */
    public static BaseListener before(int from, ObjIntConsumer<SameDiff> change) {
        return new BaseListener() {
            @Override
            public boolean isActive(Operation operation) {
                return operation == Operation.TRAINING;
            }

            @Override
            public void iterationDone(SameDiff sd, At at, MultiDataSet dataSet, Loss loss) {
                int next = at.iteration() + 1;
                if (next >= from) {
                    change.accept(sd, next);
                }
            }
        };
    }

    private static INDArray columns(INDArray w, GptConfig c, int head) {
        int hd = c.headDim();
        return w.get(NDArrayIndex.all(), NDArrayIndex.interval(head * hd, (head + 1) * hd));
    }
}
