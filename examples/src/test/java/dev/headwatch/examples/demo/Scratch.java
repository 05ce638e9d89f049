package dev.headwatch.examples.demo;

import java.nio.file.Path;
public class Scratch {
    public static void main(String[] a) {
        var o = DemoRun.Options.defaults(Integer.parseInt(a[0]), Path.of(a[1]), 2, 4, 64, 42, a.length > 2 ? Induce.parse(a[2]) : null);
        double c0 = ProcessHandle.current().info().totalCpuDuration().get().toMillis() / 1000.0;
        var r = DemoRun.train(o, System.out, false, java.util.List.of());
        double c1 = ProcessHandle.current().info().totalCpuDuration().get().toMillis() / 1000.0;
        System.out.printf("loss start %.3f end %.3f  %.1fs wall, cpu %.1f%n", r.lossAtStart(20), r.lossAtEnd(20), r.seconds(), c1 - c0);
        System.out.print(DemoRun.headTable(r.heads()));
    }
}
