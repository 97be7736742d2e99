package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.relay.auth.VerifiedDevice;
import java.net.InetSocketAddress;

/**
 * One authenticated client, on whichever transport it connected with. Frames to it are encoded for that
 * transport and queued without blocking; when its queue is full they are dropped, so a slow client only ever
 * loses its own traffic.
 */
abstract class ClientSession {

    private final VerifiedDevice device;
    private final InetSocketAddress observedAddress;
    private final TokenBucket bucket;
    private volatile long lastReceivedNanos;

    ClientSession(VerifiedDevice device, InetSocketAddress observedAddress, TokenBucket bucket, long nowNanos) {
        this.device = device;
        this.observedAddress = observedAddress;
        this.bucket = bucket;
        this.lastReceivedNanos = nowNanos;
    }

    VerifiedDevice device() {
        return device;
    }

    RelayKey key() {
        return device.key();
    }

    /** The client's source address as the relay sees it. */
    InetSocketAddress observedAddress() {
        return observedAddress;
    }

    abstract Transport transport();

    /** The UDP session id the client seals its frames with; 0 for a stream session. */
    long udpSessionId() {
        return 0;
    }

    /** Why a frame for this client would be dropped now (its queue is full), or null when it can be queued. */
    abstract DropReason congestion();

    /** Queues {@code frame} for the client without checking {@link #congestion()}. */
    abstract void send(RelayFrame frame);

    /** Queues {@code frame} for the client: null when queued, else why it was dropped. */
    DropReason deliver(RelayFrame frame) {
        DropReason congestion = congestion();
        if (congestion == null) {
            send(frame);
        }
        return congestion;
    }

    /** Tells the client why (best effort) and releases the transport. Idempotent. */
    abstract void close(CloseReason reason, String detail);

    /** Charges a received frame to the client's rate limit and marks the client alive; false when over the limit. */
    boolean admit(int wireBytes, long nowNanos) {
        lastReceivedNanos = nowNanos;
        return bucket.tryTake(wireBytes, nowNanos);
    }

    long lastReceivedNanos() {
        return lastReceivedNanos;
    }

    @Override
    public String toString() {
        return device.deviceId() + "/" + transport() + "/" + observedAddress;
    }
}
