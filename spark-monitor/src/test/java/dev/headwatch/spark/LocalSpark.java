package dev.headwatch.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** A Spark context on this machine only: no UI, the driver on the loopback address. */
final class LocalSpark {

    private LocalSpark() {
    }

    static JavaSparkContext start(String master) {
        return new JavaSparkContext(new SparkConf().setMaster(master).setAppName("headwatch-test")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"));
    }
}
