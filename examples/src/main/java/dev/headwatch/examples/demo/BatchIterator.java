package dev.headwatch.examples.demo;

import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

import dev.headwatch.examples.text.ByteCorpus;

/**
 * A fixed number of seeded random batches of windows from a corpus, as SameDiff's fit() consumes them; it ends
 * early, and so ends fit() between two steps, once {@code stop} says so.
 */
final class BatchIterator implements MultiDataSetIterator {

    private final ByteCorpus corpus;
    private final int batches;
    private final int batchSize;
    private final int context;
    private final long seed;
    private final BooleanSupplier stop;
    private SplittableRandom random;
    private int served;

    BatchIterator(ByteCorpus corpus, int batches, int batchSize, int context, long seed, BooleanSupplier stop) {
        this.corpus = corpus;
        this.stop = stop;
        this.batches = batches;
        this.batchSize = batchSize;
        this.context = context;
        this.seed = seed;
        reset();
    }

    @Override
    public boolean hasNext() {
        return served < batches && !stop.getAsBoolean();
    }

    @Override
    public MultiDataSet next() {
        if (!hasNext()) {
            throw new NoSuchElementException("all " + batches + " batches served");
        }
        served++;
        return TinyGpt.batch(corpus.windows(batchSize, context, random), ByteCorpus.VOCAB);
    }

    @Override
    public MultiDataSet next(int num) {
        return next();
    }

    @Override
    public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
        throw new UnsupportedOperationException("no preprocessing");
    }

    @Override
    public MultiDataSetPreProcessor getPreProcessor() {
        return null;
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        random = new SplittableRandom(seed);
        served = 0;
    }
}
