package dev.headwatch.examples.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class ByteCorpusTest {

    @Test
    void tokenOf_printableAsciiMapsToOneThrough95_othersToZero() {
        // ' ' (32) is the first printable byte -> 1, '~' (126) the last -> 95.
        assertThat(ByteCorpus.tokenOf((byte) ' ')).isEqualTo(1);
        assertThat(ByteCorpus.tokenOf((byte) '~')).isEqualTo(95);
        assertThat(ByteCorpus.tokenOf((byte) '\n')).isZero();
        assertThat(ByteCorpus.tokenOf((byte) 0xC3)).isZero();
        assertThat(ByteCorpus.charOf(ByteCorpus.tokenOf((byte) 'e'))).isEqualTo('e');
    }

    @Test
    void windows_sameSeed_sameWindows_andConsecutiveTokens() {
        ByteCorpus c = ByteCorpus.of(List.of("the quick brown fox jumps over the lazy dog"));
        int[][] a = c.windows(3, 5, new SplittableRandom(1));
        int[][] b = c.windows(3, 5, new SplittableRandom(1));
        assertThat(a).isDeepEqualTo(b);
        assertThat(a[0]).hasSize(6);
    }

    @Test
    void windows_longerThanCorpus_isRejectedNamingBothSizes() {
        ByteCorpus c = ByteCorpus.of(List.of("abc"));
        assertThatThrownBy(() -> c.windows(1, 10, new SplittableRandom(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("11").hasMessageContaining("3");
    }

    @Test
    void englishLines_areRealEnglishText() {
        List<String> lines = Europarl.englishLines();
        // About 1,200 of the 17,597 multilingual lines are English.
        assertThat(lines).hasSizeBetween(1000, 1500);
        assertThat(lines).allSatisfy(l -> assertThat(l).contains(" the "));
        assertThat(lines.get(0)).doesNotContain("\t");
    }
}
