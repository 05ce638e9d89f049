package dev.headwatch.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint that cannot be read: corrupt, truncated, unrecognised or hostile. The message is one line
 * naming the file and the problem.
 */
public final class CheckpointException extends IOException {

    private final transient Path file;
    private final String problem;

    public CheckpointException(Path file, String problem) {
        this(file, problem, null);
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + oneLine(problem), cause);
        this.file = file;
        this.problem = oneLine(problem);
    }

    /** The file that could not be read. */
    public Path file() {
        return file;
    }

    /** What is wrong with it, without the file name. */
    public String problem() {
        return problem;
    }

    static String oneLine(String s) {
        return s == null ? "unknown problem" : s.replaceAll("\\s+", " ").trim();
    }
}
