package dev.headwatch.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads chosen entries of a zip from elsewhere into memory. The whole archive is refused when any entry
 * name could escape an extraction directory (absolute, {@code ..}, backslash, drive letter, NUL), when a
 * name repeats (readers disagree on which copy counts), or when it holds too many entries; a chosen entry
 * is refused when it inflates beyond {@link ZipLimits}. Entries that are not chosen are never inflated.
 */
final class SafeZip {

    private SafeZip() {
    }

    /** Whether the file starts with a zip local-header signature. */
    static boolean looksLikeZip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
        }
    }

    /**
     * The chosen entries that exist, by name, after checking every entry name of the archive.
     *
     * @throws CheckpointException naming the file and the problem
     */
    static Map<String, byte[]> read(Path file, Set<String> wanted, ZipLimits limits) throws CheckpointException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read file (" + e.getMessage() + ")", e);
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Set<String> seen = new HashSet<>();
            int count = 0;
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                if (++count > limits.maxEntries()) {
                    throw new CheckpointException(file, "zip holds more than " + limits.maxEntries() + " entries; refused");
                }
                String name = entry.getName();
                String bad = unsafeName(name);
                if (bad != null) {
                    throw new CheckpointException(file, "zip entry '" + printable(name) + "' " + bad + "; refused");
                }
                if (!seen.add(name)) {
                    throw new CheckpointException(file, "zip entry '" + printable(name) + "' appears twice; refused");
                }
            }
            for (String name : wanted) {
                ZipEntry entry = zip.getEntry(name);
                if (entry == null || entry.isDirectory()) {
                    continue;
                }
                long compressed = entry.getCompressedSize() < 0 ? fileSize : Math.min(entry.getCompressedSize(), fileSize);
                long bound = limits.boundFor(compressed);
                out.put(name, inflate(file, zip, entry, bound));
            }
        } catch (CheckpointException e) {
            throw e;
        } catch (ZipException e) {
            throw new CheckpointException(file, "corrupt or truncated zip (" + e.getMessage() + ")", e);
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(file, "cannot read zip (" + e + ")", e);
        }
        return out;
    }

    private static byte[] inflate(Path file, ZipFile zip, ZipEntry entry, long bound) throws IOException {
        try (InputStream in = zip.getInputStream(entry)) {
            // The declared size sizes the buffer (untrusted, so capped by the bound): one read, no regrowing.
            long declared = entry.getSize();
            byte[] buf = new byte[(int) Math.min(bound, declared >= 0 ? declared : 1 << 16)];
            int n = 0;
            while (true) {
                if (n == buf.length) {
                    int next = in.read();
                    if (next < 0) {
                        return buf;
                    }
                    if (n + 1L > bound) {
                        throw tooLarge(file, entry, bound);
                    }
                    buf = Arrays.copyOf(buf, (int) Math.min(bound, Math.max(2L * n, 1 << 16)));
                    buf[n++] = (byte) next;
                }
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) {
                    return Arrays.copyOf(buf, n);
                }
                n += r;
            }
        } catch (ZipException | java.io.EOFException e) {
            throw new CheckpointException(file, "zip entry '" + printable(entry.getName())
                    + "' is corrupt or truncated (" + e.getMessage() + ")", e);
        }
    }

    private static CheckpointException tooLarge(Path file, ZipEntry entry, long bound) {
        return new CheckpointException(file, "zip entry '" + printable(entry.getName()) + "' inflates beyond " + bound
                + " bytes (" + entry.getCompressedSize() + " compressed): possible zip bomb; refused");
    }

    /** Why a name could escape an extraction directory, or null when it is safe. */
    static String unsafeName(String name) {
        if (name.isEmpty()) {
            return "has an empty name";
        }
        if (name.indexOf('\0') >= 0) {
            return "contains a NUL character";
        }
        if (name.indexOf('\\') >= 0) {
            return "contains a backslash";
        }
        if (name.startsWith("/")) {
            return "is an absolute path";
        }
        if (name.length() >= 2 && name.charAt(1) == ':') {
            return "starts with a drive letter";
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                return "escapes the archive (..)";
            }
        }
        return null;
    }

    /** The name with control characters shown as '?', for one-line messages. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && i < 200; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return s.length() > 200 ? b + "..." : b.toString();
    }
}
