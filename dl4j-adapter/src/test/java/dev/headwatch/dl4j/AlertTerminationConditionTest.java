package dev.headwatch.dl4j;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertEngine;
import org.deeplearning4j.earlystopping.EarlyStoppingConfiguration;
import org.deeplearning4j.earlystopping.EarlyStoppingResult;
import org.deeplearning4j.earlystopping.saver.InMemoryModelSaver;
import org.deeplearning4j.earlystopping.scorecalc.DataSetLossCalculator;
import org.deeplearning4j.earlystopping.termination.MaxEpochsTerminationCondition;
import org.deeplearning4j.earlystopping.trainer.EarlyStoppingTrainer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The condition inside DL4J's real early-stopping trainer, with the engine fed once per iteration. */
class AlertTerminationConditionTest {

    /** Feeds the engine one observation per iteration, as the monitoring listener does. */
    private static final class Feeder extends BaseTrainingListener {
        private final AlertEngine engine;
        private final double maxLogit;

        Feeder(AlertEngine engine, double maxLogit) {
            this.engine = engine;
            this.maxLogit = maxLogit;
        }

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            HeadMetrics m = HeadMetrics.builder().set(HeadField.MAX_LOGIT, maxLogit).set(HeadField.ZERO_SUM_RESIDUAL, 0)
                    .set(HeadField.ENERGY_RMS, 0.5).set(HeadField.EFFECTIVE_RANK, 3).set(HeadField.STABLE_RANK, 2)
                    .set(HeadField.TOP_ENERGY, 0.5).set(HeadField.SINK_MAX, 0.2).set(HeadField.FIRST_KEY_MASS, 0.1)
                    .build();
            engine.evaluate(new Observation(iteration, epoch, Instant.EPOCH,
                    List.of(new HeadRecord("attn", 0, 8, 4, Visibility.FULL, m))));
        }
    }

    private static EarlyStoppingResult<MultiLayerNetwork> train(AlertEngine engine, double maxLogit) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
                .updater(new Sgd(0.01)).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(4).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(1)
                        .activation(Activation.IDENTITY).build())
                .build());
        net.init();
        DataSetIterator data = new SingletonDataSetIterator(new DataSet(Nd4j.rand(8, 3), Nd4j.rand(8, 1)));
        EarlyStoppingConfiguration<MultiLayerNetwork> es = new EarlyStoppingConfiguration.Builder<MultiLayerNetwork>()
                .epochTerminationConditions(new MaxEpochsTerminationCondition(20))
                .iterationTerminationConditions(new AlertTerminationCondition(engine,
                        Alert.LOGIT_GROWTH, Alert.NON_FINITE))
                .scoreCalculator(new DataSetLossCalculator(data, true))
                .modelSaver(new InMemoryModelSaver<>())
                .build();
        EarlyStoppingTrainer trainer = new EarlyStoppingTrainer(es, net, data);
        net.addListeners(new Feeder(engine, maxLogit));
        return trainer.fit();
    }

    @Test
    void terminatesTheEarlyStoppingTrainer_whenAChosenAlertFires() {
        AlertEngine engine = AlertEngine.withDefaults();
        EarlyStoppingResult<MultiLayerNetwork> result = train(engine, 60);
        assertThat(result.getTerminationReason()).isEqualTo(EarlyStoppingResult.TerminationReason.IterationTerminationCondition);
        assertThat(result.getTerminationDetails()).contains("AlertTerminationCondition").contains("LOGIT_GROWTH");
        assertThat(engine.isFiring(Alert.LOGIT_GROWTH)).isTrue();
        // One iteration per epoch, persist 3: it fires at the third iteration and stops there.
        assertThat(result.getTotalEpochs()).isLessThanOrEqualTo(3);
    }

    @Test
    void keepsTraining_whileNoChosenAlertFires() {
        AlertEngine engine = AlertEngine.withDefaults();
        EarlyStoppingResult<MultiLayerNetwork> result = train(engine, 3);
        assertThat(result.getTerminationReason()).isEqualTo(EarlyStoppingResult.TerminationReason.EpochTerminationCondition);
        assertThat(result.getTotalEpochs()).isEqualTo(20);
    }

    @Test
    void needsAtLeastOneAlert() {
        assertThatThrownBy(() -> new AlertTerminationCondition(AlertEngine.withDefaults()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[]");
        assertThatThrownBy(() -> new AlertTerminationCondition(null, Alert.NON_FINITE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
    }
}
