package dev.headwatch.examples.papers;

public class ScratchSpec {
    public static void main(String[] a) {
        long t = System.nanoTime();
        var p = Specialization.Config.paper();
        if (a[0].equals("spec")) {
        var c = new Specialization.Config(Integer.parseInt(a[1]), 16, java.util.Arrays.stream(a[8].split(",")).mapToDouble(Double::parseDouble).toArray(), Integer.parseInt(a[7]), 0.1, Integer.parseInt(a[2]), Double.parseDouble(a[3]), 0.01, Integer.parseInt(a[4]), 50, Long.parseLong(a[5]));
        var r = Specialization.run(c);
        System.out.println(r.line() + " " + (System.nanoTime()-t)/1e9 + "s");
        Specialization.plot(r, java.nio.file.Path.of("/tmp/spec" + a[6] + ".png"));
        } else {
        var l = LinearRegime.run(new LinearRegime.Config(4, 16, Integer.parseInt(a[1]), Integer.parseInt(a[2]), Double.parseDouble(a[3]), 7));
        System.out.println(l.line() + " " + (System.nanoTime()-t)/1e9 + "s");
        LinearRegime.plot(l, java.nio.file.Path.of("/tmp/lin" + a[4] + ".png"));
        }
    }
}
