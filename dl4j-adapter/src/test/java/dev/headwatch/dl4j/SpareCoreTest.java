package dev.headwatch.dl4j;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SpareCoreTest {

    @Test
    void advisesOneThreadFewerWhenNd4jTakesEveryCore() {
        assertThat(SpareCore.advice(true, 2, 2)).hasValueSatisfying(m -> assertThat(m)
                .startsWith("headwatch: ND4J trains with 2 threads on 2 cores;")
                .contains("OMP_NUM_THREADS=1 leaves a core free"));
        assertThat(SpareCore.advice(true, 16, 8)).hasValueSatisfying(m -> assertThat(m)
                .contains("16 threads on 8 cores").contains("OMP_NUM_THREADS=7"));
    }

    @Test
    void saysNothingWhenACoreIsFreeOnAGpuOrOnOneCore() {
        assertThat(SpareCore.advice(true, 1, 2)).isEmpty();
        assertThat(SpareCore.advice(true, 7, 8)).isEmpty();
        assertThat(SpareCore.advice(false, 8, 8)).isEmpty();
        assertThat(SpareCore.advice(true, 1, 1)).isEmpty();
    }

    @Test
    void logsTheAdviceForThisMachineAtMostOncePerJvm() {
        List<String> lines = new ArrayList<>();
        Logger log = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[]{Logger.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("info") && args.length == 1) {
                        lines.add((String) args[0]);
                    }
                    return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
                });
        SpareCore.adviseOnce(log);
        SpareCore.adviseOnce(log);
        assertThat(lines).hasSizeLessThanOrEqualTo(1);
        Environment env = Nd4j.getEnvironment();
        // a listener test in this JVM may have advised first; what is logged is this machine's advice
        lines.forEach(line -> assertThat(SpareCore.advice(env.isCPU(), env.maxThreads(),
                Runtime.getRuntime().availableProcessors())).contains(line));
    }
}
