package dev.headwatch.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

import static org.assertj.core.api.Assertions.assertThat;

class HeadwatchTest {

    @Command(name = "ok", description = "Succeeds.")
    static final class OkCommand implements Runnable {
        @Override
        public void run() {
        }
    }

    @Command(name = "boom", description = "Fails internally.")
    static final class BoomCommand implements Runnable {
        @Override
        public void run() {
            throw new IllegalStateException("bug");
        }
    }

    @Test
    void help_listsTheCommandAndExitsZero() {
        CliRun r = CliRun.of("--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Usage: headwatch").contains("--version");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void version_printsTheVersionAndExitsZero() {
        CliRun r = CliRun.of("--version");
        assertThat(r.exitCode()).isZero();
        assertThat(r.outLines()).singleElement().asString().startsWith("headwatch ");
    }

    @Test
    void noSubcommand_isAUsageError() {
        CliRun r = CliRun.of();
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("headwatch: missing subcommand (see 'headwatch --help')");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void unknownSubcommandOrOption_isOneLineAndExitTwo() {
        for (String arg : new String[] {"frobnicate", "--frobnicate"}) {
            CliRun r = CliRun.of(arg);
            assertThat(r.exitCode()).as(arg).isEqualTo(2);
            assertThat(r.errLines()).as(arg).singleElement().asString()
                    .startsWith("headwatch: ").contains(arg).doesNotContain("Exception");
        }
    }

    @Test
    void extraSubcommands_areRegisteredAndInheritHelp() {
        CliRun ok = CliRun.of(Headwatch.commandLine(new OkCommand()), "ok");
        assertThat(ok.exitCode()).isZero();
        CliRun help = CliRun.of(Headwatch.commandLine(OkCommand.class), "ok", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("Usage: headwatch ok").contains("Succeeds.").contains("--help");
        CliRun list = CliRun.of(Headwatch.commandLine(new OkCommand()), "--help");
        assertThat(list.out()).contains("ok").contains("Succeeds.");
    }

    @Test
    void internalError_exitsOneWithTheCauseOnStderr() {
        CliRun r = CliRun.of(Headwatch.commandLine(new BoomCommand()), "boom");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLines().get(0)).isEqualTo("headwatch boom: internal error: java.lang.IllegalStateException: bug");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void badInputThrownBySubcommand_isOneLineAndExitTwo() {
        @Command(name = "picky")
        class Picky implements Runnable {
            @picocli.CommandLine.Spec
            picocli.CommandLine.Model.CommandSpec spec;

            @Override
            public void run() {
                throw Headwatch.badInput(spec, "the value 3 is\nnot allowed");
            }
        }
        CliRun r = CliRun.of(Headwatch.commandLine(new Picky()), "picky");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("headwatch picky: the value 3 is not allowed");
    }
}
