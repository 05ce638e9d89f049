package dev.headwatch.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/** The one number format of the report: table cells, chart ticks, legends and the glossary's ranges. */
final class Num {

    private Num() {
    }

    /**
     * Whole numbers as integers, magnitudes in [1e-3, 1e6) plain with at most 4 significant digits,
     * the rest as {@code 1.234e-7}; empty for NaN (undefined).
     */
    static String format(double v) {
        if (Double.isNaN(v)) {
            return "";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        double a = Math.abs(v);
        if (v == Math.rint(v) && a < 1e6) {
            return Long.toString((long) v);
        }
        if (a >= 1e-3 && a < 1e6) {
            return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
        }
        String[] parts = String.format(Locale.ROOT, "%.3e", v).split("e");
        String mantissa = parts[0].contains(".") ? parts[0].replaceAll("0+$", "").replaceAll("\\.$", "") : parts[0];
        return mantissa + "e" + Integer.parseInt(parts[1]);
    }
}
