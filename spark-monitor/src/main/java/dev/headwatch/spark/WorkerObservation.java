package dev.headwatch.spark;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import org.deeplearning4j.core.storage.Persistable;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What one worker measured at one iteration, on its way to the driver: the per-head metrics as plain
 * numbers (no arrays of the model, a few hundred bytes per head), tagged with the run and the worker. It is
 * a DL4J {@link Persistable} so that parameter averaging carries it to the driver's router with the
 * results of each split.
 */
final class WorkerObservation implements Persistable {

    @Serial
    private static final long serialVersionUID = 1L;
    static final String TYPE_ID = "HeadwatchObservation";
    private static final HeadField[] FIELDS = HeadField.values();
    /** What {@link #decode} reads: this type and what it holds, nothing else. */
    private static final java.io.ObjectInputFilter ONLY_THIS = java.io.ObjectInputFilter.Config.createFilter(
            "dev.headwatch.spark.WorkerObservation*;dev.headwatch.core.Visibility$Kind;java.lang.*;java.util.ArrayList;"
                    + "java.lang.Enum;java.lang.Record;!*");

    private String run;
    private String worker;
    private long step;
    private int epoch;
    private long timeMillis;
    private double loss;
    private ArrayList<Head> heads;

    /** One head's record in field order ({@link HeadField} ordinals). */
    record Head(String layer, int head, int n, int d, Visibility.Kind mask, int maskLength, double[] values,
                double qkSpectralNorm, boolean nonFiniteInput) implements Serializable {
    }

    private WorkerObservation(String run, String worker, long step, int epoch, long timeMillis, double loss,
                              ArrayList<Head> heads) {
        this.run = run;
        this.worker = worker;
        this.step = step;
        this.epoch = epoch;
        this.timeMillis = timeMillis;
        this.loss = loss;
        this.heads = heads;
    }

    static WorkerObservation of(String run, String worker, Observation o) {
        ArrayList<Head> heads = new ArrayList<>(o.heads().size());
        for (HeadRecord r : o.heads()) {
            double[] values = new double[FIELDS.length];
            for (HeadField f : FIELDS) {
                values[f.ordinal()] = r.metrics().get(f);
            }
            heads.add(new Head(r.layer(), r.head(), r.n(), r.d(), r.mask().kind(), r.mask().length(), values,
                    r.qkSpectralNorm(), r.nonFiniteInput()));
        }
        return new WorkerObservation(run, worker, o.step(), o.epoch(), o.time().toEpochMilli(), o.loss(), heads);
    }

    /** The observation as the worker's monitor made it (time to the millisecond). */
    Observation observation() {
        List<HeadRecord> records = new ArrayList<>(heads.size());
        for (Head h : heads) {
            HeadMetrics.Builder m = HeadMetrics.builder();
            for (HeadField f : FIELDS) {
                m.set(f, h.values()[f.ordinal()]);
            }
            records.add(new HeadRecord(h.layer(), h.head(), h.n(), h.d(), new Visibility(h.mask(), h.maskLength()),
                    m.build(), h.qkSpectralNorm(), h.nonFiniteInput()));
        }
        return new Observation(step, epoch, Instant.ofEpochMilli(timeMillis), loss, records);
    }

    String worker() {
        return worker;
    }

    long step() {
        return step;
    }

    @Override
    public String getSessionID() {
        return run;
    }

    @Override
    public String getTypeID() {
        return TYPE_ID;
    }

    @Override
    public String getWorkerID() {
        return worker;
    }

    @Override
    public long getTimeStamp() {
        return timeMillis;
    }

    // DL4J's storage encodes Persistables as bytes: Java serialization of this value keeps one format.

    @Override
    public int encodingLengthBytes() {
        return encode().length;
    }

    @Override
    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            encode(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public void encode(ByteBuffer buffer) {
        buffer.put(encode());
    }

    @Override
    public void encode(OutputStream out) throws IOException {
        ObjectOutputStream o = new ObjectOutputStream(out);
        o.writeObject(this);
        o.flush();
    }

    @Override
    public void decode(byte[] bytes) {
        try {
            decode(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void decode(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        decode(bytes);
    }

    @Override
    public void decode(InputStream in) throws IOException {
        try {
            ObjectInputStream o = new ObjectInputStream(in);
            o.setObjectInputFilter(ONLY_THIS);
            WorkerObservation w = (WorkerObservation) o.readObject();
            run = w.run;
            worker = w.worker;
            step = w.step;
            epoch = w.epoch;
            timeMillis = w.timeMillis;
            loss = w.loss;
            heads = w.heads;
        } catch (ClassNotFoundException | ClassCastException | java.io.InvalidClassException e) {
            throw new IOException("not a headwatch worker observation: " + e, e);
        }
    }
}
