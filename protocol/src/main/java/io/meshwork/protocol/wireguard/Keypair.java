package io.meshwork.protocol.wireguard;

import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.spec.SecretKeySpec;

/**
 * The transport keys one handshake derived (WireGuard §5.4.5), with the indices that address them, the send
 * counter and the receive replay window.
 */
public final class Keypair {

    private final SecretKeySpec sendKey;
    private final SecretKeySpec receiveKey;
    private final int localIndex;
    private final int remoteIndex;
    private final boolean initiator;
    private final long createdNanos;
    private final AtomicLong sendCounter = new AtomicLong();
    private final ReplayWindow replayWindow = new ReplayWindow();

    Keypair(byte[] sendKey, byte[] receiveKey, int localIndex, int remoteIndex, boolean initiator, long createdNanos) {
        this.sendKey = ChaChaPoly.key(sendKey);
        this.receiveKey = ChaChaPoly.key(receiveKey);
        this.localIndex = localIndex;
        this.remoteIndex = remoteIndex;
        this.initiator = initiator;
        this.createdNanos = createdNanos;
    }

    public SecretKeySpec sendKey() {
        return sendKey;
    }

    public SecretKeySpec receiveKey() {
        return receiveKey;
    }

    /** Our index: peers put it in the receiver field of what they send us. */
    public int localIndex() {
        return localIndex;
    }

    /** The peer's index: we put it in the receiver field of what we send. */
    public int remoteIndex() {
        return remoteIndex;
    }

    public boolean isInitiator() {
        return initiator;
    }

    /** When the handshake completed, in the caller's {@code System.nanoTime()}-like clock. */
    public long createdNanos() {
        return createdNanos;
    }

    /** Takes the next send counter (a nonce: never reused). */
    public long nextSendCounter() {
        return sendCounter.getAndIncrement();
    }

    public long sendCount() {
        return sendCounter.get();
    }

    public ReplayWindow replayWindow() {
        return replayWindow;
    }
}
