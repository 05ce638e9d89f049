package dev.headwatch.core.sink;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * One compact INFO line per observation on the logger {@code dev.headwatch}: the step, per layer the
 * lowest entropy and its head, and how many heads are in alert, e.g.
 * <pre>headwatch step=120 epoch=1 layers=[att0: entropy 0.412@h2, att1: entropy 0.874@h0] alerts=0</pre>
 * The alert count comes from a function given at construction (an alert engine added as an earlier
 * sink); without one it is 0.
 */
public final class Slf4jSummarySink implements ObservationSink {

    private static final Logger LOG = LoggerFactory.getLogger("dev.headwatch");

    private final ToIntFunction<Observation> headsInAlert;

    /** A summary whose alert count is always 0. */
    public Slf4jSummarySink() {
        this(observation -> 0);
    }

    /** A summary whose alert count is {@code headsInAlert} applied to each observation. */
    public Slf4jSummarySink(ToIntFunction<Observation> headsInAlert) {
        if (headsInAlert == null) {
            throw new IllegalArgumentException("headsInAlert must not be null");
        }
        this.headsInAlert = headsInAlert;
    }

    @Override
    public void write(Observation observation) {
        if (LOG.isInfoEnabled()) {
            LOG.info(summary(observation, headsInAlert.applyAsInt(observation)));
        }
    }

    /** The summary line of one observation. */
    static String summary(Observation observation, int alerts) {
        Map<String, HeadRecord> lowest = new LinkedHashMap<>();
        for (HeadRecord r : observation.heads()) {
            lowest.merge(r.layer(), r, (a, b) -> lessEntropy(b, a) ? b : a);
        }
        StringBuilder sb = new StringBuilder("headwatch step=").append(observation.step())
                .append(" epoch=").append(observation.epoch()).append(" layers=[");
        String sep = "";
        for (HeadRecord r : lowest.values()) {
            double e = r.metrics().entropy();
            sb.append(sep).append(r.layer()).append(": entropy ")
                    .append(Double.isNaN(e) ? "NaN" : String.format(Locale.ROOT, "%.3f", e))
                    .append("@h").append(r.head());
            sep = ", ";
        }
        return sb.append("] alerts=").append(alerts).toString();
    }

    /** Whether a has a lower entropy than b; NaN counts as lowest so it shows. */
    private static boolean lessEntropy(HeadRecord a, HeadRecord b) {
        double x = a.metrics().entropy();
        double y = b.metrics().entropy();
        return Double.isNaN(x) ? !Double.isNaN(y) : x < y;
    }
}
