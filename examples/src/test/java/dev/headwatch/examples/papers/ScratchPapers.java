package dev.headwatch.examples.papers;

public class ScratchPapers {
    public static void main(String[] a) {
        long t = System.nanoTime();
        var c = new SignalRecovery.Config(Integer.parseInt(a[0]), Integer.parseInt(a[1]), Integer.parseInt(a[2]), Double.parseDouble(a[3]), Double.parseDouble(a[4]), Integer.parseInt(a[5]), Double.parseDouble(a[6]), Double.parseDouble(a[7]), Integer.parseInt(a[8]), 20, 1);
        var r = SignalRecovery.run(c);
        System.out.println(r.line() + " h=" + java.util.Arrays.toString(r.drift()) + " " + (System.nanoTime()-t)/1e9 + "s");
        System.out.println(java.util.Arrays.toString(r.finalAlignment()));
        SignalRecovery.plot(r, java.nio.file.Path.of("/tmp/sr.png"));
    }
}
