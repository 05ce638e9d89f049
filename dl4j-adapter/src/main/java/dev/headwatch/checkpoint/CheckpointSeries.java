package dev.headwatch.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the paths a user names into the checkpoints to analyse, in order. A file is one checkpoint. A
 * directory written by DL4J's {@code CheckpointListener} contributes every checkpoint listed in its
 * {@code checkpointInfo.txt} whose file still exists, ordered by iteration; a line that does not parse, or
 * names anything but a plain {@code checkpoint_<n>_<ModelType>.zip} (or, from SameDiff's listener,
 * {@code SameDiff_checkpoint-<n>_epoch-<e>_iter-<i>_<time>.bin}) in that directory, becomes a
 * problem. A directory without {@code checkpointInfo.txt} contributes its {@code checkpoint_<n>_*.zip}
 * files by n, or else its {@code .zip} and {@code .fb} files by name.
 *
 * @param checkpoints what to analyse, in order
 * @param problems    what could not even be listed (each names its file)
 */
public record CheckpointSeries(List<CheckpointRef> checkpoints, List<CheckpointException> problems) {

    /** The record file of DL4J's {@code CheckpointListener}. */
    public static final String INFO_FILE = "checkpointInfo.txt";

    private static final Pattern CHECKPOINT_NAME =
            Pattern.compile("checkpoint_(\\d{1,9})_(MultiLayerNetwork|ComputationGraph)\\.zip");
    /** What SameDiff's {@code CheckpointListener} writes: number, epoch, iteration and a time stamp. */
    private static final Pattern SAMEDIFF_NAME =
            Pattern.compile("SameDiff_checkpoint-\\d{1,9}_epoch-\\d{1,9}_iter-\\d{1,18}_[0-9_-]{1,40}\\.bin");

    public CheckpointSeries {
        checkpoints = List.copyOf(checkpoints);
        problems = List.copyOf(problems);
    }

    /** Resolves the paths in the order given. */
    public static CheckpointSeries resolve(List<Path> paths) {
        List<CheckpointRef> refs = new ArrayList<>();
        List<CheckpointException> problems = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                directory(p, refs, problems);
            } else {
                refs.add(CheckpointRef.of(p));
            }
        }
        return new CheckpointSeries(refs, problems);
    }

    private static void directory(Path dir, List<CheckpointRef> refs, List<CheckpointException> problems) {
        Path info = dir.resolve(INFO_FILE);
        try {
            if (Files.isRegularFile(info)) {
                fromInfo(dir, info, refs, problems);
                return;
            }
            List<Path> numbered = new ArrayList<>();
            List<Path> other = new ArrayList<>();
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                for (Path f : files) {
                    String name = f.getFileName().toString();
                    if (!Files.isRegularFile(f)) {
                        continue;
                    }
                    if (CHECKPOINT_NAME.matcher(name).matches()) {
                        numbered.add(f);
                    } else if (name.endsWith(".zip") || name.endsWith(".fb")) {
                        other.add(f);
                    }
                }
            }
            List<Path> chosen = numbered.isEmpty() ? other : numbered;
            chosen.sort(numbered.isEmpty() ? Comparator.comparing(Path::toString)
                    : Comparator.comparingInt(CheckpointSeries::number));
            if (chosen.isEmpty()) {
                problems.add(new CheckpointException(dir, "directory holds no " + INFO_FILE + " and no .zip or .fb files"));
            }
            chosen.forEach(f -> refs.add(CheckpointRef.of(f)));
        } catch (IOException e) {
            problems.add(new CheckpointException(dir, "cannot list directory (" + e.getMessage() + ")", e));
        }
    }

    private static void fromInfo(Path dir, Path info, List<CheckpointRef> refs, List<CheckpointException> problems)
            throws IOException {
        record Line(int number, long iteration, int epoch, String file) {
        }
        List<Line> lines = new ArrayList<>();
        int lineNumber = 0;
        for (String raw : Files.readAllLines(info, StandardCharsets.UTF_8)) {
            lineNumber++;
            if (raw.isBlank() || raw.startsWith("checkpointNum,")) {
                continue; // DL4J writes a header line first
            }
            // checkpointNum,timestamp,iteration,epoch,modelType,filename (DL4J's Checkpoint.toFileString);
            // SameDiff's listener writes the same without modelType.
            String[] f = raw.split(",", -1);
            try {
                if (f.length != 6 && f.length != 5) {
                    throw new IllegalArgumentException("expected 5 or 6 comma-separated fields but found " + f.length);
                }
                String name = f[f.length - 1].trim();
                Matcher m = (f.length == 6 ? CHECKPOINT_NAME : SAMEDIFF_NAME).matcher(name);
                if (!m.matches()) {
                    throw new IllegalArgumentException("file name '" + SafeZip.printable(name) + "' is not "
                            + (f.length == 6 ? "checkpoint_<n>_<ModelType>.zip" : "SameDiff_checkpoint-<n>_epoch-<e>_iter-<i>_<time>.bin"));
                }
                lines.add(new Line(Integer.parseInt(f[0].trim()), Long.parseLong(f[2].trim()),
                        Integer.parseInt(f[3].trim()), name));
            } catch (IllegalArgumentException e) {
                problems.add(new CheckpointException(info, "line " + lineNumber + ": " + e.getMessage()));
            }
        }
        lines.sort(Comparator.comparingLong(Line::iteration).thenComparingInt(Line::number));
        for (Line l : lines) {
            Path file = dir.resolve(l.file);
            // Files removed by the listener's keep-last policy are listed but gone: skip them as DL4J does.
            if (Files.exists(file)) {
                refs.add(new CheckpointRef(file, l.file, l.iteration, l.epoch));
            }
        }
        if (lines.isEmpty() && problems.isEmpty()) {
            problems.add(new CheckpointException(info, "lists no checkpoints"));
        }
    }

    private static int number(Path f) {
        Matcher m = CHECKPOINT_NAME.matcher(f.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(1)) : Integer.MAX_VALUE;
    }
}
