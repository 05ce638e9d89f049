package dev.headwatch.core.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** Rows as RFC 4180 writes them (what commons-csv's default format gives for the same cells). */
class CsvSinkTest {

    @Test
    void line_plainCellsAreCommaSeparated_andNullIsEmpty() {
        assertThat(CsvSink.line(Arrays.asList(1, null, "causal", 0.5, null))).isEqualTo("1,,causal,0.5,\r\n");
    }

    @Test
    void line_quotesCellsWithCommasQuotesAndLineBreaks_doublingQuotes() {
        assertThat(CsvSink.line(Arrays.asList("a,b", "say \"hi\"", "two\nlines", "x")))
                .isEqualTo("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",x\r\n");
    }

    @Test
    void line_leadingEmptyCellsKeepTheirSeparators() {
        assertThat(CsvSink.line(Arrays.asList(null, null, "z"))).isEqualTo(",,z\r\n");
    }
}
