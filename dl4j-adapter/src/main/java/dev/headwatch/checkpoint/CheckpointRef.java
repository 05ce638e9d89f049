package dev.headwatch.checkpoint;

import java.nio.file.Path;

/**
 * One saved model to analyse, in series order.
 *
 * @param file      the file
 * @param label     how reports name it (the file name)
 * @param iteration the training iteration it was saved at, or -1 when unknown
 * @param epoch     the epoch it was saved at, or -1 when unknown
 */
public record CheckpointRef(Path file, String label, long iteration, int epoch) {
    public CheckpointRef {
        if (file == null || label == null) {
            throw new IllegalArgumentException("file and label must not be null but were " + file + " and " + label);
        }
    }

    /** A single file, named by its file name, iteration unknown. */
    public static CheckpointRef of(Path file) {
        Path name = file.getFileName();
        return new CheckpointRef(file, name == null ? file.toString() : name.toString(), -1, -1);
    }
}
