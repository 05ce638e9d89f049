package dev.headwatch.core;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A one-way flag that asks a training run to stop (set, for example, by an alert rule). Listeners read
 * it on the training thread at the end of an iteration; anything may set it from any thread.
 */
public final class StopSignal {

    private final AtomicReference<String> reason = new AtomicReference<>();

    /** Asks the run to stop; the first reason given is kept. */
    public void request(String why) {
        reason.compareAndSet(null, why == null ? "stop requested" : why);
    }

    /** Whether a stop was requested. */
    public boolean isRequested() {
        return reason.get() != null;
    }

    /** The first reason given, if a stop was requested. */
    public Optional<String> reason() {
        return Optional.ofNullable(reason.get());
    }
}
