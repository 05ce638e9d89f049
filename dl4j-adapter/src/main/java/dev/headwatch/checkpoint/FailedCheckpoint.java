package dev.headwatch.checkpoint;

/**
 * A checkpoint that could not be analysed.
 *
 * @param label   its file name
 * @param file    the path as given
 * @param problem what went wrong, one line
 */
public record FailedCheckpoint(String label, String file, String problem) {
    public FailedCheckpoint {
        if (label == null || file == null || problem == null) {
            throw new IllegalArgumentException("label, file and problem must not be null");
        }
    }
}
