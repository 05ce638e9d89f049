package dev.headwatch.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.OptionalInt;

/**
 * The report's charts, drawn headless and returned as base64 PNG: line charts and spectra with XChart,
 * heat maps with Java2D (XChart cannot label every row and column of a 64 x 64 map with its token).
 * Every number on a y axis or a colour bar goes through {@link Num#format}; x axes count whole things.
 */
final class Charts {

    /**
     * A named line.
     *
     * @param name legend text
     * @param y    one value per x; non-finite values are left out
     */
    record Series(String name, double[] y) {
    }

    private static final int SMALL_H = 260;
    /** Heat maps aim at this many pixels per side, so tokens stay legible up to about 64 positions. */
    private static final int MAP_SIDE = 640;
    private static final Font TICKS = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 12);
    private static final Color THRESHOLD = new Color(0xc0392b);

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /** A line per head over x, and each threshold as a dashed red line; null when no head has a finite value. */
    static String lines(String title, String xTitle, double[] x, List<Series> heads, List<Series> thresholds) {
        XYChart chart = new XYChartBuilder().width(600).height(SMALL_H).title(title).xAxisTitle(xTitle).build();
        style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setMarkerSize(5);
        if (addAll(chart, x, heads).isEmpty()) {
            return null;
        }
        for (XYSeries s : addAll(chart, x, thresholds)) {
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(THRESHOLD);
            s.setLineStyle(SeriesLines.DASH_DASH);
        }
        return png(chart);
    }

    private static List<XYSeries> addAll(XYChart chart, double[] x, List<Series> series) {
        List<XYSeries> added = new ArrayList<>();
        for (Series s : series) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int i = 0; i < x.length; i++) {
                if (Double.isFinite(s.y()[i])) {
                    xs.add(x[i]);
                    ys.add(s.y()[i]);
                }
            }
            if (!xs.isEmpty()) {
                added.add(chart.addSeries(s.name(), xs, ys));
            }
        }
        return added;
    }

    /**
     * Singular values on a log scale, values below {@code sigma_1 * 1e-12} (numerically zero, the rank cliff)
     * drawn at that floor, and the rank bound, when there is one, as a vertical line just after it. The
     * legend sits below the plot so it never hides the cliff. The axis carries log10 of the values, labelled
     * with the values themselves (XChart's log axis would bypass the report's number format).
     */
    static String spectrum(String title, double[] sigma, OptionalInt bound) {
        double top = sigma.length == 0 ? 0 : sigma[0];
        if (!(top > 0) || !Double.isFinite(top)) {
            return null;
        }
        XYChart chart = new XYChartBuilder().width(420).height(SMALL_H + 20).title(title).xAxisTitle("k")
                .yAxisTitle("singular value").build();
        style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setyAxisTickLabelsFormattingFunction(v -> Num.format(Math.pow(10, v)));
        double floor = Math.log10(top) - 12;
        double[] k = new double[sigma.length];
        double[] v = new double[sigma.length];
        for (int i = 0; i < sigma.length; i++) {
            k[i] = i + 1;
            v[i] = sigma[i] > 0 && Double.isFinite(sigma[i]) ? Math.max(Math.log10(sigma[i]), floor) : floor;
        }
        chart.addSeries("sigma_k", k, v).setMarker(SeriesMarkers.CIRCLE);
        if (bound.isPresent() && bound.getAsInt() > 0 && bound.getAsInt() < sigma.length) {
            double at = bound.getAsInt() + 0.5;
            XYSeries line = chart.addSeries("rank bound " + bound.getAsInt(), new double[] {at, at},
                    new double[] {Arrays.stream(v).min().orElse(floor), Math.log10(top)});
            line.setMarker(SeriesMarkers.NONE);
            line.setLineColor(Color.GRAY);
            line.setLineStyle(SeriesLines.DASH_DASH);
        }
        return png(chart);
    }

    /**
     * A heat map of a matrix, row (query) 0 at the top, column (key) 0 at the left: colours symmetric
     * around 0 for a signed field, white to dark blue for a non-negative one. Rows and columns are labelled
     * with {@code tokens} when there is one per position, else with their index; labels are thinned only
     * when the cells are smaller than the font.
     */
    static String heatMap(String title, double[][] m, boolean signed, List<String> tokens) {
        int rows = m.length;
        int cols = rows == 0 ? 0 : m[0].length;
        if (rows == 0 || cols == 0) {
            return null;
        }
        int cell = Math.max(2, Math.min(16, MAP_SIDE / Math.max(rows, cols)));
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(7, Math.min(11, cell)));
        List<String> rowLabels = labels(tokens, rows);
        List<String> colLabels = labels(tokens, cols);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        FontMetrics fm = pg.getFontMetrics(font);
        FontMetrics tm = pg.getFontMetrics(TICKS);
        pg.dispose();
        // Glyphs stand a pixel or two below the font's ascent: labels of that height fit one per row.
        int rowStep = step(fm.getAscent() - 2, cell, rowLabels == null);
        int rowLabelW = widest(fm, rowLabels, rows);
        // Indices and single characters stand upright under their column; longer tokens read upwards.
        boolean upright = colLabels == null || colLabels.stream().allMatch(s -> s.codePointCount(0, s.length()) <= 1);
        int colLabelW = widest(fm, colLabels, cols);
        int colStep = colLabels == null ? step(colLabelW + 4, cell, true)
                : step(upright ? fm.charWidth('n') + 2 : fm.getAscent() - 2, cell, false);
        int colLabelH = upright ? fm.getHeight() : colLabelW;
        double extent = 0;
        for (double[] row : m) {
            for (double v : row) {
                if (Double.isFinite(v)) {
                    extent = Math.max(extent, Math.abs(v));
                }
            }
        }
        // Two significant digits, rounded up, so the colour bar reads 0.95 rather than 0.9451018673712974.
        extent = extent == 0 ? 1 : new BigDecimal(extent).round(new MathContext(2, RoundingMode.UP)).doubleValue();
        double lo = signed ? -extent : 0;

        int left = 18 + rowLabelW + 4;
        int top = 26;
        int mapW = cols * cell;
        int mapH = rows * cell;
        int legendX = left + mapW + 12;
        int width = legendX + 16 + Math.max(tm.stringWidth(Num.format(lo)), tm.stringWidth(Num.format(extent))) + 8;
        int height = top + mapH + 4 + colLabelH + 4 + tm.getHeight() + 6;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(TITLE);
        g.drawString(title, left, 16);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                g.setColor(colour(m[i][j], lo, extent, signed));
                g.fillRect(left + j * cell, top + i * cell, cell, cell);
            }
        }
        g.setColor(Color.LIGHT_GRAY);
        g.drawRect(left - 1, top - 1, mapW + 1, mapH + 1);
        g.setColor(Color.DARK_GRAY);
        g.setFont(font);
        for (int i = 0; i < rows; i += rowStep) {
            String s = rowLabels == null ? Integer.toString(i) : rowLabels.get(i);
            g.drawString(s, left - 4 - fm.stringWidth(s), top + i * cell + (cell + fm.getAscent()) / 2 - 1);
        }
        int labelsTop = top + mapH + 4;
        for (int j = 0; j < cols; j += colStep) {
            String s = colLabels == null ? Integer.toString(j) : colLabels.get(j);
            int cx = left + j * cell + cell / 2;
            if (upright) {
                g.drawString(s, cx - fm.stringWidth(s) / 2, labelsTop + fm.getAscent());
            } else {
                AffineTransform saved = g.getTransform();
                g.translate(cx + fm.getAscent() / 2 - 1, labelsTop + fm.stringWidth(s));
                g.rotate(-Math.PI / 2);
                g.drawString(s, 0, 0);
                g.setTransform(saved);
            }
        }
        g.setFont(TICKS);
        String keyTitle = "key j";
        g.drawString(keyTitle, left + mapW / 2 - tm.stringWidth(keyTitle) / 2, labelsTop + colLabelH + 4 + tm.getAscent());
        AffineTransform saved = g.getTransform();
        g.translate(4 + tm.getAscent(), top + mapH / 2 + tm.stringWidth("query i") / 2);
        g.rotate(-Math.PI / 2);
        g.drawString("query i", 0, 0);
        g.setTransform(saved);
        // Colour bar: the top is the largest value.
        for (int y = 0; y < mapH; y++) {
            g.setColor(colour(extent - (extent - lo) * y / Math.max(1, mapH - 1), lo, extent, signed));
            g.fillRect(legendX, top + y, 12, 1);
        }
        g.setColor(Color.DARK_GRAY);
        g.drawRect(legendX, top, 12, mapH);
        g.drawString(Num.format(extent), legendX + 16, top + tm.getAscent());
        if (signed) {
            g.drawString("0", legendX + 16, top + mapH / 2 + tm.getAscent() / 2);
        }
        g.drawString(Num.format(lo), legendX + 16, top + mapH);
        g.dispose();
        return encode(img);
    }

    /** What a token looks like on an axis: white space made visible, long pieces cut; null when tokens do not fit. */
    private static List<String> labels(List<String> tokens, int size) {
        if (tokens == null || tokens.size() != size) {
            return null;
        }
        List<String> out = new ArrayList<>(size);
        for (String t : tokens) {
            StringBuilder s = new StringBuilder();
            t.codePoints().limit(8).forEach(c -> s.append(switch (c) {
                case ' ' -> "\u2423";
                case '\n' -> "\u21b5";
                case '\t' -> "\u21e5";
                default -> Character.isISOControl(c) ? "\u00b7" : new String(Character.toChars(c));
            }));
            if (t.codePointCount(0, t.length()) > 8) {
                s.append('\u2026');
            }
            out.add(s.toString());
        }
        return out;
    }

    /** Label every k-th position so labels of {@code size} pixels do not overlap; indices at round steps. */
    private static int step(int size, int cell, boolean round) {
        int k = Math.max(1, (size + cell - 1) / cell);
        if (!round) {
            return k;
        }
        for (int r : new int[] {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}) {
            if (r >= k) {
                return r;
            }
        }
        return k;
    }

    private static int widest(FontMetrics fm, List<String> labels, int size) {
        if (labels == null) {
            return fm.stringWidth(Integer.toString(size - 1));
        }
        return labels.stream().mapToInt(fm::stringWidth).max().orElse(0);
    }

    private static Color colour(double v, double lo, double hi, boolean signed) {
        double x = Double.isFinite(v) ? Math.max(lo, Math.min(hi, v)) : 0;
        if (!signed) {
            return mix(Color.WHITE, new Color(0x08306b), x / hi);
        }
        return x < 0 ? mix(Color.WHITE, new Color(0x2166ac), -x / hi) : mix(Color.WHITE, new Color(0xb2182b), x / hi);
    }

    private static Color mix(Color a, Color b, double t) {
        return new Color((int) Math.round(a.getRed() + (b.getRed() - a.getRed()) * t),
                (int) Math.round(a.getGreen() + (b.getGreen() - a.getGreen()) * t),
                (int) Math.round(a.getBlue() + (b.getBlue() - a.getBlue()) * t));
    }

    private static void style(AxesChartStyler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setChartTitleFont(TITLE);
        s.setLegendFont(TICKS);
        s.setLegendBorderColor(Color.WHITE);
        s.setAntiAlias(true);
        s.setAxisTickLabelsFont(TICKS);
        s.setAxisTitleFont(TICKS);
        s.setPlotGridLinesColor(new Color(0xe0e0e0));
        // x is always whole (k, iteration, checkpoint): XChart's own ticks, printed as Num prints integers.
        s.setXAxisDecimalPattern("0");
        s.setyAxisTickLabelsFormattingFunction(Num::format);
    }

    private static String png(XYChart chart) {
        try {
            return Base64.getEncoder().encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String encode(BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }
}
