package dev.headwatch.samediff;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertEngine;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import static org.assertj.core.api.Assertions.assertThat;

/** A SameDiff run with stopOn: the listener answers STOP at the end of the epoch in which the alert fired. */
class SameDiffStopOnAlertTest {

    private static final int N_IN = 8;
    private static final int T = 5;

    @Test
    void stopOn_endsTrainingAtTheEpochEnd_afterTheAlertFires() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, N_IN, T);
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, N_IN, T);
        Nd4j.getRandom().setSeed(5);
        SDVariable wq = sd.var("Wq", Nd4j.randn(DataType.FLOAT, 2, 4, N_IN).muli(0.3));
        SDVariable wk = sd.var("Wk", Nd4j.randn(DataType.FLOAT, 2, 4, N_IN).muli(0.3));
        SDVariable wv = sd.var("Wv", Nd4j.randn(DataType.FLOAT, 2, 4, N_IN).muli(0.3));
        SDVariable wo = sd.var("Wo", Nd4j.randn(DataType.FLOAT, 8, N_IN).muli(0.3));
        SDVariable out = sd.nn.multiHeadDotProductAttention("mhdpa", x, x, x, wq, wk, wv, wo, null, false);
        sd.loss.meanSquaredError("loss", y, out, null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-3))
                .dataSetFeatureMapping("x").dataSetLabelMapping("y").build());

        AlertEngine engine = AlertEngine.withDefaults();
        SameDiffAttentionListener listener = SameDiffAttentionListener.builder().background(false)
                .stopOn(engine, Alert.NON_FINITE).build();
        sd.setListeners(listener);
        INDArray features = Nd4j.randn(DataType.FLOAT, 2, N_IN, T);
        features.putScalar(new int[] {0, 0, 0}, Float.NaN);
        features.putScalar(new int[] {1, 0, 0}, Float.NaN);
        // One iteration per epoch, 10 epochs asked for; NaN from the first: fires at the third iteration.
        sd.fit(new SingletonDataSetIterator(new DataSet(features, Nd4j.randn(DataType.FLOAT, 2, N_IN, T))), 10);
        listener.close();
        assertThat(engine.isFiring(Alert.NON_FINITE)).isTrue();
        assertThat(listener.stats().submitted()).isEqualTo(3);
    }
}
