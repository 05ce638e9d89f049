package dev.headwatch.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.headwatch.cli.CliRun;
import dev.headwatch.cli.Headwatch;
import picocli.CommandLine;

/** The demo refuses an output it would spoil, with one line and exit code 2, before training anything. */
class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    void outNamingAFile_isOneLineAndExit2() throws Exception {
        Path file = Files.writeString(dir.resolve("taken"), "x");
        CliRun r = CliRun.of("demo", "--out", file.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).doesNotContain("\n").contains("is a file, not a directory");
    }

    @Test
    void outNotEmpty_isRefused_soTwoRunsNeverMix() throws Exception {
        Files.writeString(dir.resolve("metrics.jsonl"), "{}\n");
        CliRun r = CliRun.of("demo", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).doesNotContain("\n").contains("is not empty");
        assertThat(Files.readString(dir.resolve("metrics.jsonl"))).isEqualTo("{}\n");
    }

    @Test
    void help_listsEveryCommand_eachSummarisedByOneWholeSentence() {
        CommandLine cl = Headwatch.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("help")).isZero();
        for (String command : new String[] {"qk", "analyze", "prometheus-rules", "demo", "example", "bench"}) {
            assertThat(out.toString()).containsPattern("(?m)^  " + command + " +\\S");
            String[] header = cl.getSubcommands().get(command).getCommandSpec().usageMessage().header();
            assertThat(header).as(command).hasSize(1);
            assertThat(header[0]).as(command).endsWith(".").doesNotContain(". ");
        }
        StringWriter demoHelp = new StringWriter();
        cl.setOut(new PrintWriter(demoHelp));
        assertThat(cl.execute("help", "demo")).isZero();
        assertThat(demoHelp.toString()).contains("--steps");
    }
}
