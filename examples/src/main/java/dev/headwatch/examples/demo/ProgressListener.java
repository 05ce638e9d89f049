package dev.headwatch.examples.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.ListenerVariables;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import dev.headwatch.cli.ProgressConsole;

/**
 * Records the training loss of every iteration and shows it on the progress bar with the heads in alert.
 *
 * <p>SameDiff's training pass differentiates the softmax cross-entropy without evaluating it (the
 * {@link Loss} handed to listeners is 0), so the loss is computed here from the logits and the labels.
 */
final class ProgressListener extends BaseListener {

    private final ProgressConsole console;
    private final IntSupplier headsInAlert;
    private final List<Double> losses = new ArrayList<>();
    private double current = Double.NaN;

    ProgressListener(ProgressConsole console, IntSupplier headsInAlert) {
        this.console = console;
        this.headsInAlert = headsInAlert;
    }

    @Override
    public boolean isActive(Operation operation) {
        return operation == Operation.TRAINING;
    }

    @Override
    public ListenerVariables requiredVariables(SameDiff sd) {
        return ListenerVariables.builder().trainingVariables(TinyGpt.LOGITS).build();
    }

    @Override
    public void activationAvailable(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, String varName,
                                    INDArray activation) {
        if (TinyGpt.LOGITS.equals(varName)) {
            current = crossEntropy(activation, batch.getLabels(0));
        }
    }

    @Override
    public void iterationDone(SameDiff sd, At at, MultiDataSet dataSet, Loss loss) {
        losses.add(current);
        int alerts = headsInAlert.getAsInt();
        console.step(losses.size(), String.format("loss %.3f, %d head%s in alert", current, alerts,
                alerts == 1 ? "" : "s"));
    }

    /** Loss of each iteration so far (nats per token). */
    /** The loss of the current iteration, known once its logits are (NaN before the first). */
    double current() {
        return current;
    }

    List<Double> losses() {
        return losses;
    }

    /** Mean over rows of {@code logsumexp(z) - z[label]}, labels one-hot. */
    static double crossEntropy(INDArray logits, INDArray oneHot) {
        INDArray z = logits.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        INDArray max = z.max(true, 1);
        INDArray lse = org.nd4j.linalg.ops.transforms.Transforms.exp(z.subColumnVector(max), false)
                .sum(true, 1);
        org.nd4j.linalg.ops.transforms.Transforms.log(lse, false).addi(max);
        double picked = z.mul(oneHot.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)).sumNumber().doubleValue();
        return (lse.sumNumber().doubleValue() - picked) / z.size(0);
    }
}
