package io.meshwork.relay.auth;

import java.math.BigInteger;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The serial numbers of revoked device certificates, replaced as a whole whenever a fresher list arrives
 * (from a file, or from control). Listeners hear of every replacement so connected devices can be cut off.
 */
public final class RevocationList {

    private volatile Set<BigInteger> revoked = Set.of();
    private final CopyOnWriteArrayList<Consumer<Set<BigInteger>>> listeners = new CopyOnWriteArrayList<>();

    public boolean isRevoked(BigInteger serial) {
        return revoked.contains(serial);
    }

    public Set<BigInteger> serials() {
        return revoked;
    }

    /** Replaces the list and tells the listeners when it changed. */
    public void replace(Set<BigInteger> serials) {
        Set<BigInteger> next = Set.copyOf(serials);
        if (next.equals(revoked)) {
            return;
        }
        revoked = next;
        listeners.forEach(listener -> listener.accept(next));
    }

    public void onChange(Consumer<Set<BigInteger>> listener) {
        listeners.add(listener);
    }
}
