package io.meshwork.relay.server;

import io.meshwork.protocol.relay.ChallengeIssuer;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.relay.auth.DeviceCredentialVerifier;
import io.meshwork.relay.metrics.RelayMetrics;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;

/**
 * The whole relay without sockets: the same handshake, device-certificate checks, routing, rate limits and drop
 * counters as {@link RelayServer}, fed datagrams and stream frames by whoever owns the transport. The Netty server
 * is one owner; the in-JVM network simulation is another, on virtual sockets and virtual time
 * ({@link RelayConfig.Builder#time}).
 *
 * <p>Not thread-safe by itself: the owner calls it from one thread, or keeps each client's traffic on one thread
 * as the Netty server does. {@link #sweep()} must be called periodically (the server does so every quarter of the
 * idle timeout, at most every second).
 */
public final class RelayEngine {

    private final RelayKey publicKey;
    private final RelayHub hub;
    private final UdpRelayCore udp;
    private final Duration handshakeTimeout;

    private RelayEngine(RelayKey publicKey, RelayHub hub, UdpRelayCore udp, Duration handshakeTimeout) {
        this.publicKey = publicKey;
        this.hub = hub;
        this.udp = udp;
        this.handshakeTimeout = handshakeTimeout;
    }

    /**
     * A relay with key pair {@code keys} whose UDP socket is bound at {@code udpLocal} and sends through
     * {@code udpOut}. {@code random} keys the stateless handshake challenges.
     */
    public static RelayEngine create(RelayConfig config, RelayMetrics metrics, RelayKeyPair keys, SecureRandom random,
            InetSocketAddress udpLocal, DatagramSender udpOut) {
        RelayHub hub = newHub(config, metrics, keys, random);
        return new RelayEngine(keys.publicKey(), hub, new UdpRelayCore(hub, udpOut, udpLocal), config.handshakeTimeout);
    }

    static RelayHub newHub(RelayConfig config, RelayMetrics metrics, RelayKeyPair keys, SecureRandom random) {
        DeviceCredentialVerifier verifier = new DeviceCredentialVerifier(config.anchors, config.revocations);
        Authenticator authenticator = new Authenticator(keys, new ChallengeIssuer(random, config.challengeLifetime),
                verifier);
        return new RelayHub(config, authenticator, metrics);
    }

    /** The key clients see in the handshake. */
    public RelayKey publicKey() {
        return publicKey;
    }

    /** One datagram that arrived on the UDP socket from {@code source}; the buffer is not kept past the call. */
    public void onDatagram(InetSocketAddress source, ByteBuffer datagram) {
        udp.onDatagram(datagram, source);
    }

    /**
     * A client opened a stream connection from {@code remote}; the relay answers through {@code toClient}. The
     * owner feeds the client's frames to the returned connection, tells it when the stream closes, and closes a
     * stream still not {@link StreamConnection#authenticated()} after {@link #streamHandshakeTimeout()}. When the
     * caps on unauthenticated connections are reached the refusal is counted, {@code toClient} is closed at once and
     * the returned connection ignores what still arrives.
     */
    public StreamConnection openStream(InetSocketAddress remote, FrameStream toClient) {
        if (!hub.tryOpenPending(remote)) {
            toClient.close();
            return new StreamConnection(hub, remote, toClient, () -> { });
        }
        return new StreamConnection(hub, remote, toClient, () -> hub.pendingEnded(remote));
    }

    /** How long a stream connection may stay unauthenticated before it is closed. */
    public Duration streamHandshakeTimeout() {
        return handshakeTimeout;
    }

    /** Closes idle sessions and those whose certificate has expired. */
    public void sweep() {
        hub.sweep();
    }

    /** Closes every session, telling each client the relay is going away. */
    public void closeAll() {
        hub.closeAll();
    }

    public RelayMetrics metrics() {
        return hub.metrics();
    }

    public int clientCount() {
        return hub.clientCount();
    }

    /** TCP connections not authenticated yet (counted against the pending-connection caps). */
    public int pendingConnections() {
        return hub.pendingConnections();
    }

    public int clientCount(Transport transport) {
        return hub.clientCount(transport);
    }

    /** The transport the device with {@code key} is connected on, if it is. */
    public Optional<Transport> transportOf(RelayKey key) {
        return hub.transportOf(key);
    }
}
