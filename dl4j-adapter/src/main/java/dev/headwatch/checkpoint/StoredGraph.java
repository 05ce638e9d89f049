package dev.headwatch.checkpoint;

import dev.headwatch.samediff.SameDiffCapture;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * What weight-only analysis reads of a SameDiff model: its fused attention ops, whether it holds a variable,
 * the arrays it stores, and its training counters. Backed by a loaded {@link SameDiff} ({@link #of}) or read
 * straight from the file by {@link FlatGraphFile}, which does not rebuild the graph.
 */
interface StoredGraph {

    /**
     * A fused attention op.
     *
     * @param layer     the name it is reported under ({@link SameDiffCapture#layerName})
     * @param multiHead {@code multi_head_dot_product_attention} (else {@code dot_product_attention})
     * @param scaled    whether it scales its logits by {@code 1/sqrt(headSize)} ({@link SameDiffCapture#scaled})
     * @param inputs    its input variables, in op order
     */
    record FusedAttention(String layer, boolean multiHead, boolean scaled, List<String> inputs) {
    }

    /** The fused attention ops, in graph order. */
    List<FusedAttention> fusedAttention();

    /** Whether the model holds a variable of this name. */
    boolean hasVariable(String name);

    /**
     * The stored array of a variable or constant; null for an op output or a placeholder (which only have values
     * during execution), as {@code SameDiff.getArrForVarName} outside a session.
     */
    INDArray array(String name);

    /** The training iteration counter the model was saved with, or -1 when it holds no training configuration. */
    long iteration();

    /** The epoch counter the model was saved with, or -1 when it holds no training configuration. */
    int epoch();

    /** A view of a loaded graph. */
    static StoredGraph of(SameDiff sd) {
        List<FusedAttention> fused = new ArrayList<>();
        for (SameDiffOp op : sd.getOps().values()) {
            if (SameDiffCapture.isFusedAttention(op.getOp())) {
                fused.add(new FusedAttention(SameDiffCapture.layerName(op),
                        SameDiffCapture.isMultiHead(op.getOp()),
                        SameDiffCapture.scaled(op.getOp()), op.getInputsToOp()));
            }
        }
        TrainingConfig training = sd.getTrainingConfig();
        return new StoredGraph() {
            @Override
            public List<FusedAttention> fusedAttention() {
                return fused;
            }

            @Override
            public boolean hasVariable(String name) {
                return sd.hasVariable(name);
            }

            @Override
            public INDArray array(String name) {
                return sd.getArrForVarName(name);
            }

            @Override
            public long iteration() {
                return training == null ? -1 : training.getIterationCount();
            }

            @Override
            public int epoch() {
                return training == null ? -1 : training.getEpochCount();
            }
        };
    }
}
