package dev.headwatch.checkpoint;

import dev.headwatch.core.alert.AlertEvent;

/**
 * An alert transition and the checkpoint whose observation caused it.
 *
 * @param checkpoint the checkpoint label
 * @param event      the transition
 */
public record CheckpointAlert(String checkpoint, AlertEvent event) {
    public CheckpointAlert {
        if (checkpoint == null || event == null) {
            throw new IllegalArgumentException("checkpoint and event must not be null");
        }
    }
}
