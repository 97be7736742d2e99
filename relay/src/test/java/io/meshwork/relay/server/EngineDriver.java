package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.ObservedAddress;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayFrameException;
import io.meshwork.protocol.relay.RelayHandshake;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.protocol.relay.UdpSessionKey;
import io.meshwork.relay.metrics.RelayMetrics;
import io.meshwork.relay.testing.TestDevices;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;

/**
 * Drives a {@link RelayEngine} as its clients would, without sockets: datagrams in, what the relay sends collected
 * in {@link #sent}, and time that moves only when the test moves it ({@link #nanos}, {@link #clock}). Frames from
 * an address that authenticated are sealed with its session key, as the node's client seals them.
 */
final class EngineDriver {

    static final InetSocketAddress RELAY = new InetSocketAddress("192.0.2.1", 3340);
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");

    /** What the relay sent: a datagram (decoded) and its destination, or raw bytes when it is not a relay frame. */
    record Sent(InetSocketAddress to, RelayFrame frame, byte[] datagram) {}

    final Queue<Sent> sent = new ArrayDeque<>();
    long nanos = 1_000_000_000L;
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    /** The UDP session each authenticated address seals its frames with. */
    final Map<InetSocketAddress, UdpSessionKey> sessions = new HashMap<>();
    private final Map<InetSocketAddress, Long> counters = new HashMap<>();

    RelayEngine engine(RelayConfig.Builder config) {
        DatagramSender sender = new DatagramSender() {
            @Override
            public boolean writable() {
                return true;
            }

            @Override
            public boolean send(byte[] datagram, InetSocketAddress to) {
                RelayFrame frame = null;
                try {
                    frame = RelayFrameCodec.decodeDatagram(ByteBuffer.wrap(datagram));
                } catch (RelayFrameException e) {
                    // A STUN answer; kept as bytes.
                }
                sent.add(new Sent(to, frame, datagram));
                return true;
            }
        };
        Clock wall = new Clock() {
            @Override
            public Instant instant() {
                return clock.instant();
            }

            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }
        };
        return RelayEngine.create(config.udp(RELAY).time(wall, () -> nanos).build(), new RelayMetrics(),
                RelayKeyPair.generate(new SecureRandom()), new SecureRandom(), RELAY, sender);
    }

    /** A device whose certificate is valid around {@link #NOW}, the relay's wall time. */
    static TestDevices.Device enroll(TestDevices ca, String deviceId) {
        return ca.enroll(deviceId, NOW.minusSeconds(60), NOW.plusSeconds(86_400));
    }

    /** A device of {@code organizationId} whose certificate is valid around {@link #NOW}. */
    static TestDevices.Device enroll(TestDevices ca, String organizationId, String deviceId) {
        return ca.enroll(organizationId, deviceId, NOW.minusSeconds(60), NOW.plusSeconds(86_400));
    }

    /** Hello, challenge, auth over datagrams from {@code at}; returns the relay's verdict (OK: with the address). */
    AuthStatus authenticate(RelayEngine relay, TestDevices.Device device, InetSocketAddress at) {
        ClientHello hello = new ClientHello(RelayHandshake.VERSION, device.keys().publicKey());
        relay.onDatagram(at, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(hello, RelayHandshake.MIN_UDP_HELLO_BYTES)));
        ServerChallenge challenge = assertInstanceOf(ServerChallenge.class, next(at));
        ClientAuth auth = auth(device, challenge);
        relay.onDatagram(at, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(auth)));
        AuthResult result = assertInstanceOf(AuthResult.class, next(at));
        if (result.status() == AuthStatus.OK) {
            UdpSessionKey key = RelayHandshake.clientSessionKey(device.keys(), challenge.serverKey(),
                    challenge.challenge()).orElseThrow();
            assertEquals(key.id(), result.udpSessionId(), "the relay names the session both ends derived");
            sessions.put(at, key);
            counters.put(at, 0L);
            // Endpoint reflection: the client learns the address the relay sees it at.
            assertEquals(at, assertInstanceOf(ObservedAddress.class, next(at)).address());
        }
        return result.status();
    }

    static ClientAuth auth(TestDevices.Device device, ServerChallenge challenge) {
        byte[] certificate;
        try {
            certificate = device.certificate().getEncoded();
        } catch (CertificateEncodingException e) {
            throw new AssertionError(e);
        }
        byte[] proof = RelayHandshake.prove(device.keys(), challenge.serverKey(), challenge.challenge(),
                ByteBuffer.wrap(certificate)).orElseThrow();
        return new ClientAuth(device.keys().publicKey(), challenge.challenge(), ByteBuffer.wrap(proof),
                ByteBuffer.wrap(certificate));
    }

    /** {@code frame} from {@code from}: sealed with its session once it has one, as a client sends it. */
    void receive(RelayEngine relay, InetSocketAddress from, RelayFrame frame) {
        relay.onDatagram(from, ByteBuffer.wrap(datagram(from, frame)));
    }

    /** The datagram {@code from} would send for {@code frame} now (consuming a counter when sealed). */
    byte[] datagram(InetSocketAddress from, RelayFrame frame) {
        UdpSessionKey key = sessions.get(from);
        boolean handshake = frame instanceof ClientHello || frame instanceof ClientAuth;
        RelayFrame onWire = key == null || handshake ? frame
                : key.seal(counters.merge(from, 1L, Long::sum) - 1, frame);
        return RelayFrameCodec.encodeDatagram(onWire);
    }

    /** The next datagram the relay sent, which must be for {@code to}. */
    RelayFrame next(InetSocketAddress to) {
        Sent next = sent.poll();
        assertTrue(next != null, "the relay sent nothing");
        assertEquals(to, next.to(), "sent to " + next.to() + ": " + next.frame());
        return next.frame();
    }

    /** Datagrams the relay sent to {@code to} since the queue was last cleared. */
    long sentTo(InetSocketAddress to) {
        return sent.stream().filter(s -> s.to().equals(to)).count();
    }
}
