package dev.headwatch.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** The report's charts, drawn headless with XChart and returned as base64 PNG. */
final class Charts {

    static final int SMALL_W = 300;
    static final int SMALL_H = 260;
    private static final Font TICKS = new Font(Font.SANS_SERIF, Font.PLAIN, 9);
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 12);

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /** A line per named series over x; non-finite points are left out. */
    static String lines(String title, String xTitle, String yTitle, double[] x, List<String> names, List<double[]> ys,
                        boolean logY) {
        XYChart chart = new XYChartBuilder().width(420).height(SMALL_H).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setMarkerSize(5);
        boolean any = false;
        for (int s = 0; s < names.size(); s++) {
            List<Double> xs = new ArrayList<>();
            List<Double> vs = new ArrayList<>();
            double[] y = ys.get(s);
            for (int i = 0; i < x.length; i++) {
                if (Double.isFinite(y[i]) && (!logY || y[i] > 0)) {
                    xs.add(x[i]);
                    vs.add(y[i]);
                }
            }
            if (!xs.isEmpty()) {
                chart.addSeries(names.get(s), xs, vs);
                any = true;
            }
        }
        if (!any) {
            return null;
        }
        chart.getStyler().setYAxisLogarithmic(logY);
        return png(chart);
    }

    /**
     * Singular values on a log axis, with the head dimension d marked: values below
     * {@code sigma_1 * 1e-12} (numerically zero, the rank cliff) are drawn at that floor.
     */
    static String spectrum(String title, double[] sigma, int d) {
        XYChart chart = new XYChartBuilder().width(SMALL_W).height(SMALL_H).title(title).xAxisTitle("k")
                .yAxisTitle("singular value").build();
        style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setYAxisLogarithmic(true);
        double top = sigma.length == 0 ? 0 : sigma[0];
        if (!(top > 0) || !Double.isFinite(top)) {
            return null;
        }
        double floor = top * 1e-12;
        double[] k = new double[sigma.length];
        double[] v = new double[sigma.length];
        for (int i = 0; i < sigma.length; i++) {
            k[i] = i + 1;
            v[i] = Double.isFinite(sigma[i]) ? Math.max(sigma[i], floor) : floor;
        }
        XYSeries s = chart.addSeries("sigma", k, v);
        s.setMarker(SeriesMarkers.CIRCLE);
        if (d > 0 && d < sigma.length) {
            XYSeries cliff = chart.addSeries("d = " + d, new double[] {d + 0.5, d + 0.5}, new double[] {floor, top});
            cliff.setMarker(SeriesMarkers.NONE);
            cliff.setLineColor(Color.GRAY);
        }
        return png(chart);
    }

    /**
     * A heat map of an {@code n x n} matrix, row 0 at the top. Symmetric colours around 0 for a signed
     * field, white to dark for a non-negative one.
     */
    static String heatMap(String title, double[][] m, boolean signed) {
        int n = m.length;
        if (n == 0) {
            return null;
        }
        HeatMapChart chart = new HeatMapChartBuilder().width(SMALL_W + 60).height(SMALL_H + 20).title(title)
                .xAxisTitle("key j").yAxisTitle("query i").build();
        style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setShowValue(false);
        chart.getStyler().setXAxisTicksVisible(n <= 10);
        chart.getStyler().setYAxisTicksVisible(n <= 24);
        List<Integer> xs = new ArrayList<>();
        List<Integer> ys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            xs.add(i);
            ys.add(n - 1 - i);
        }
        List<Number[]> cells = new ArrayList<>(n * n);
        double extent = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = Double.isFinite(m[i][j]) ? m[i][j] : 0;
                extent = Math.max(extent, Math.abs(v));
                cells.add(new Number[] {j, n - 1 - i, v});
            }
        }
        // Two significant digits, rounded up, so the colour legend reads "0.95" rather than 0.9451018673712974.
        extent = extent == 0 ? 1 : new java.math.BigDecimal(extent)
                .round(new java.math.MathContext(2, java.math.RoundingMode.UP)).doubleValue();
        if (signed) {
            chart.getStyler().setRangeColors(new Color[] {new Color(0x2166ac), Color.WHITE, new Color(0xb2182b)});
            chart.getStyler().setMin(-extent);
        } else {
            chart.getStyler().setRangeColors(new Color[] {Color.WHITE, new Color(0x08306b)});
            chart.getStyler().setMin(0);
        }
        chart.getStyler().setMax(extent);
        chart.getStyler().setHeatMapDecimalValueFormatter(v -> String.format(java.util.Locale.ROOT, "%.2g", v));
        chart.addSeries(title, xs, ys, cells);
        return png(chart);
    }

    private static void style(Styler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setChartTitleFont(TITLE);
        s.setLegendFont(TICKS);
        s.setAntiAlias(true);
        if (s instanceof org.knowm.xchart.style.AxesChartStyler a) {
            a.setAxisTickLabelsFont(TICKS);
            a.setAxisTitleFont(TICKS);
            a.setPlotGridLinesColor(new Color(0xe0e0e0));
        }
    }

    private static String png(Chart<?, ?> chart) {
        try {
            return Base64.getEncoder().encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
