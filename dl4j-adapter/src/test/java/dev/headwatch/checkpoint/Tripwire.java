package dev.headwatch.checkpoint;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.concurrent.atomic.AtomicBoolean;

/** A serialized payload standing in for a malicious gadget: deserializing it trips a flag. */
public final class Tripwire implements Serializable {

    public static final AtomicBoolean TRIPPED = new AtomicBoolean();
    private static final long serialVersionUID = 1L;

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        TRIPPED.set(true);
    }
}
