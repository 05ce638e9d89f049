package dev.headwatch.examples.bench;

import dev.headwatch.cli.CliRun;
import dev.headwatch.core.math.Products;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BenchCommandTest {

    @Test
    void overhead_small_endsWithTheRatioLine(@TempDir Path dir) throws IOException {
        Path times = dir.resolve("times.csv");
        CliRun r = CliRun.of("bench", "overhead", "--warmup", "1", "--rounds", "2", "--steps", "2",
                "--batch", "4", "--length", "8", "--times", times.toString());
        assertThat(r.exitCode()).isZero();
        String[] lines = r.out().strip().split("\\R");
        assertThat(lines[lines.length - 1]).matches("overhead: headwatch=\\d+\\.\\d{3}x statslistener=\\d+\\.\\d{3}x");
        assertThat(r.out()).containsPattern("headwatch: [1-9]\\d* observations");
        assertThat(r.out()).contains("headwatch observes every iteration");
        assertThat(r.out()).containsPattern("ND4J: (1 thread|[1-9]\\d* threads) on [1-9]\\d* cores \\(OMP_NUM_THREADS( unset|=\\S+)\\)");
        assertThat(r.out()).contains(Products.vectorised() ? "headwatch's products: on the JDK's vector API"
                : "headwatch's products: plain Java (the vector API needs the JVM flag --add-modules");
        assertThat(lines[lines.length - 7]).matches(
                "listener CPU per step: headwatch \\d+\\.\\d{2} ms on the training thread \\+ \\d+\\.\\d{2} ms in the background "
                        + "= \\d+\\.\\d{2} ms \\(\\d+\\.\\d% of the unmonitored median step\\); statslistener \\d+\\.\\d{2} ms \\(\\d+\\.\\d%\\)");
        java.util.regex.Matcher cpu = java.util.regex.Pattern.compile(
                "headwatch (\\S+) ms on the training thread \\+ (\\S+) ms in the background.*statslistener (\\S+) ms")
                .matcher(lines[lines.length - 7]);
        assertThat(cpu.find()).isTrue();
        for (int g = 1; g <= 3; g++) {
            assertThat(Double.parseDouble(cpu.group(g))).as("CPU figure %d", g).isPositive();
        }
        assertThat(lines[lines.length - 6]).matches("warm-up: 1 untimed steps per way; the JIT compiled for "
                + "\\d+\\.\\d% of the last 1 \\((done|still compiling: the timed steps include it; try a longer --warmup)\\)");
        java.util.regex.Matcher warmup = java.util.regex.Pattern.compile("background CPU per observation: (\\d+\\.\\d{2}) ms "
                + "over the 1 untimed warm-up observations \\(while the JIT compiles the monitor\\), (\\d+\\.\\d{2}) ms over "
                + "the timed ones").matcher(lines[lines.length - 5]);
        assertThat(warmup.matches()).as(lines[lines.length - 5]).isTrue();
        assertThat(Double.parseDouble(warmup.group(1))).isPositive();
        assertThat(Double.parseDouble(warmup.group(2))).isPositive();
        assertThat(lines[lines.length - 4]).matches("allocated per observation: headwatch [1-9]\\d* KB");
        assertThat(lines[lines.length - 3]).matches("steps over twice the unmonitored median: none \\d+\\.\\d%, "
                + "headwatch \\d+\\.\\d%, statslistener \\d+\\.\\d%( \\(the unmonitored steps stall too: .*\\))?");
        assertThat(lines[lines.length - 2]).matches(
                "95% intervals: headwatch \\d+\\.\\d{3}-\\d+\\.\\d{3}x statslistener \\d+\\.\\d{3}-\\d+\\.\\d{3}x");
        // Every timed step: 2 rounds x 3 ways x 2 steps, each way at its place in the round's order.
        List<String> rows = Files.readAllLines(times);
        assertThat(rows).hasSize(13).first().isEqualTo("round,position,way,step,nanos");
        assertThat(rows.subList(1, 13)).extracting(row -> row.substring(0, row.lastIndexOf(',')))
                .containsExactly("1,0,none,1", "1,0,none,2", "2,2,none,1", "2,2,none,2",
                        "1,1,headwatch,1", "1,1,headwatch,2", "2,0,headwatch,1", "2,0,headwatch,2",
                        "1,2,statslistener,1", "1,2,statslistener,2", "2,1,statslistener,1", "2,1,statslistener,2");
        assertThat(rows.subList(1, 13)).allSatisfy(row ->
                assertThat(Long.parseLong(row.substring(row.lastIndexOf(',') + 1))).isPositive());
    }

    @Test
    void overhead_timesInAMissingFolder_failsBeforeTraining(@TempDir Path dir) {
        Path times = dir.resolve("missing").resolve("times.csv");
        CliRun r = CliRun.of("bench", "overhead", "--times", times.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).endsWith("--times: cannot write a file in " + times.getParent());
        assertThat(r.out()).doesNotContain("round");
    }

    @Test
    void sharesOver_countsTheStepsStrictlyAboveTheLimit() {
        List<List<Long>> times = List.of(List.of(10L, 20L, 41L, 90L), List.of(40L, 40L), List.of(5L, 100L, 200L));
        assertThat(OverheadBenchmark.sharesOver(times, 40)).containsExactly(0.5, 0.0, 2 / 3.0);
    }

    @Test
    void slowSteps_pointsAtTheMachineWhenTheUnmonitoredStepsStall() {
        assertThat(OverheadBenchmark.slowSteps(new double[] {0.002, 0.008, 0.016}))
                .isEqualTo("steps over twice the unmonitored median: none 0.2%, headwatch 0.8%, statslistener 1.6%");
        assertThat(OverheadBenchmark.slowSteps(new double[] {0.328, 0.356, 0.366}))
                .isEqualTo("steps over twice the unmonitored median: none 32.8%, headwatch 35.6%, statslistener 36.6% "
                        + "(the unmonitored steps stall too: the medians measure the machine more than the listeners; "
                        + "see docs/performance.md on ND4J's threads)");
    }

    @Test
    void intervals_areExactForConstantTimes_andHoldTheMedianRatio() {
        List<List<Long>> constant = List.of(Collections.nCopies(50, 100L), Collections.nCopies(50, 110L),
                Collections.nCopies(50, 90L));
        assertThat(OverheadBenchmark.intervals(constant, new SplittableRandom(3)))
                .containsExactly(new double[] {1.1, 1.1, 0.9, 0.9}, within(1e-12));
        SplittableRandom random = new SplittableRandom(4);
        List<List<Long>> noisy = new ArrayList<>();
        for (long base : new long[] {100_000, 103_000, 98_000}) {
            List<Long> way = new ArrayList<>();
            for (int i = 0; i < 201; i++) {
                way.add(base + random.nextLong(-5_000, 5_000));
            }
            noisy.add(way);
        }
        double[] ci = OverheadBenchmark.intervals(noisy, new SplittableRandom(5));
        double h = OverheadBenchmark.median(noisy.get(1)) / OverheadBenchmark.median(noisy.get(0));
        double st = OverheadBenchmark.median(noisy.get(2)) / OverheadBenchmark.median(noisy.get(0));
        assertThat(ci[0]).isLessThan(h).isGreaterThan(1.0);
        assertThat(ci[1]).isGreaterThan(h).isLessThan(1.06);
        assertThat(ci[2]).isLessThan(st).isGreaterThan(0.94);
        assertThat(ci[3]).isGreaterThan(st).isLessThan(1.0);
    }

    @Test
    void cpuTimed_passesEveryCallOn_andAddsUpItsCpuTime() {
        List<String> calls = new ArrayList<>();
        org.deeplearning4j.optimize.api.TrainingListener busy = new org.deeplearning4j.optimize.api.BaseTrainingListener() {
            @Override
            public void iterationDone(org.deeplearning4j.nn.api.Model model, int iteration, int epoch) {
                calls.add("iterationDone " + iteration + " " + epoch);
                java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
                long end = mx.getCurrentThreadCpuTime() + 20_000_000;
                double x = 0;
                while (mx.getCurrentThreadCpuTime() < end) {
                    x += Math.sqrt(x + 1);                     // 20 ms of this thread's CPU time
                }
                calls.add(x > 0 ? "worked" : "");
            }

            @Override
            public void onEpochStart(org.deeplearning4j.nn.api.Model model) {
                calls.add("onEpochStart");
            }

            @Override
            public void onForwardPass(org.deeplearning4j.nn.api.Model model, List<org.nd4j.linalg.api.ndarray.INDArray> a) {
                calls.add("onForwardPass " + a.size());
            }

            @Override
            public void onBackwardPass(org.deeplearning4j.nn.api.Model model) {
                calls.add("onBackwardPass");
            }
        };
        OverheadBenchmark.CpuTimed timed = new OverheadBenchmark.CpuTimed(busy);
        timed.onEpochStart(null);
        timed.onForwardPass(null, List.of());
        timed.onBackwardPass(null);
        timed.iterationDone(null, 7, 2);
        assertThat(calls).containsExactly("onEpochStart", "onForwardPass 0", "onBackwardPass", "iterationDone 7 2", "worked");
        assertThat(timed.nanos).isGreaterThanOrEqualTo(20_000_000L);
        timed.reset();
        assertThat(timed.nanos).isZero();
    }

    @Test
    void orders_areTheSixPermutations_soEachWayFollowsEveryOtherEquallyOften() {
        java.util.Set<List<Integer>> orders = new java.util.HashSet<>();
        int[][] follows = new int[3][3];
        for (int[] order : OverheadBenchmark.ORDERS) {
            orders.add(java.util.Arrays.stream(order).boxed().toList());
            for (int i = 1; i < order.length; i++) {
                follows[order[i]][order[i - 1]]++;
            }
        }
        assertThat(orders).containsExactlyInAnyOrder(List.of(0, 1, 2), List.of(0, 2, 1), List.of(1, 0, 2),
                List.of(1, 2, 0), List.of(2, 0, 1), List.of(2, 1, 0));
        assertThat(follows).isDeepEqualTo(new int[][] {{0, 2, 2}, {2, 0, 2}, {2, 2, 0}});
    }

    @Test
    void overhead_badValue_exitsWithTwoNamingIt() {
        CliRun r = CliRun.of("bench", "overhead", "--rounds", "0");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--rounds must be >= 1 but was 0");
        r = CliRun.of("bench", "overhead", "--every", "0");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--every must be >= 1 but was 0");
    }

    @Test
    void warmupLine_saysWhetherTheJitWasStillCompiling() {
        assertThat(new OverheadBenchmark.Warmup(2000, 100, 0.9e7, 1e9).line())
                .isEqualTo("warm-up: 2000 untimed steps per way; the JIT compiled for 0.9% of the last 100 (done)");
        assertThat(new OverheadBenchmark.Warmup(600, 100, 2.5e7, 1e9).line())
                .isEqualTo("warm-up: 600 untimed steps per way; the JIT compiled for 2.5% of the last 100 (still "
                        + "compiling: the timed steps include it; try a longer --warmup)");
        assertThat(new OverheadBenchmark.Warmup(5, 5, Double.NaN, 1e9).line())
                .isEqualTo("warm-up: 5 untimed steps per way; the JVM does not report its compile time");
    }

    @Test
    void overhead_every_observesOnlyEveryNthIteration() {
        // 1 warmup step and 1 round of 1 untimed + 3 timed steps: iterations 0..4, of which 0, 2 and 4 observed
        CliRun r = CliRun.of("bench", "overhead", "--warmup", "1", "--rounds", "1", "--steps", "3", "--every", "2",
                "--batch", "4", "--length", "8");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("headwatch observes every 2 iterations").contains("headwatch: 3 observations");
    }
}
