package dev.headwatch.core.alert;

/**
 * The built-in rules: one per row of the METRICS.md alert table. Each has a default severity and the
 * advice its messages carry (what usually helps). Thresholds are in {@link AlertConfig}.
 */
public enum Alert {
    /** Entropy below a floor, or fell by more than half from its running median. */
    ENTROPY_COLLAPSE(Severity.WARNING,
            "each query attends to almost a single key; usually helps: QK layer norm, a lower learning rate"
                    + " or a longer warm-up"),
    /** maxLogit above a bound, or qkSpectralNorm grew by a factor over its running median. */
    LOGIT_GROWTH(Severity.WARNING,
            "attention logits are growing without bound (softmax saturation follows); usually helps: QK layer"
                    + " norm, logit soft-capping, weight decay on the query/key projections or a lower learning rate"),
    /** Near-uniform attention with a near-zero energy field. */
    DEAD_HEAD(Severity.INFO,
            "the head attends uniformly and its energy field is near zero, so it passes only the mean value;"
                    + " usually helps: check the query/key initialisation and that gradients reach the head,"
                    + " or prune it"),
    /** The energy field is close to rank one. */
    RANK_COLLAPSE(Severity.INFO,
            "every query ranks the keys the same way (energy field close to rank one); usually helps: a lower"
                    + " learning rate, QK layer norm, or check the input for a dominant direction"),
    /** A few key positions dominate the key space, or the energy sits on few keys. */
    KEY_COHERENCE(Severity.INFO,
            "a few key positions dominate the key space, so attention energy concentrates on them; usually"
                    + " helps: check positional encodings and special tokens, normalise the input to the layer"),
    /** A strong sink at a position that was not a sink at the first observation. */
    SINK_SHIFT(Severity.INFO,
            "a new attention sink appeared (most rows put their mass on one key); usually helps: check that"
                    + " key position's token or padding, add an explicit sink/BOS token, or use QK layer norm"),
    /** Two heads of a layer with almost the same energy field: one finding naming both. */
    REDUNDANT_HEAD(Severity.INFO,
            "the two heads compute nearly the same energy field; usually helps:"
                    + " different initialisations per head, head dropout, or prune one of the two"),
    /** NaN or infinity in Q, K, V or a metric. */
    NON_FINITE(Severity.CRITICAL,
            "NaN or infinity reached the attention layer; usually helps: a lower learning rate, gradient"
                    + " clipping, checking the input data for NaN"),
    /** reconstructionError or zeroSumResidual above its bound. */
    INVARIANT_VIOLATION(Severity.CRITICAL,
            "a softmax-attention invariant does not hold: either headwatch misreads this layer (reconstruction)"
                    + " or the logits are too large to centre in float32; usually helps: report the layer"
                    + " configuration, or bound the logits (QK layer norm, a lower learning rate)");

    private final Severity severity;
    private final String advice;

    Alert(Severity severity, String advice) {
        this.severity = severity;
        this.advice = advice;
    }

    /** The severity of this rule's events. */
    public Severity severity() {
        return severity;
    }

    /** What the condition usually means and what usually helps. */
    public String advice() {
        return advice;
    }
}
