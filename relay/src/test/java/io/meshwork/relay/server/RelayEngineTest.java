package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.ObservedAddress;
import io.meshwork.protocol.relay.RelayFrame.ReceivedPacket;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayFrame.Transport;
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
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import org.junit.jupiter.api.Test;

/**
 * The relay without sockets: datagrams in, datagrams out through a {@link DatagramSender}, streams through a
 * {@link FrameStream}, and time that moves only when the test moves it.
 */
class RelayEngineTest {

    private static final InetSocketAddress RELAY = new InetSocketAddress("192.0.2.1", 3340);
    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");

    private final TestDevices devices = new TestDevices("engine test CA");
    private final Queue<Sent> sent = new ArrayDeque<>();
    private long nanos = 1_000_000_000L;
    private Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    /** The UDP session each authenticated address seals its frames with, and its next counter. */
    private final Map<InetSocketAddress, UdpSessionKey> sessions = new HashMap<>();
    private final Map<InetSocketAddress, Long> counters = new HashMap<>();

    private record Sent(InetSocketAddress to, RelayFrame frame) {}

    private RelayEngine engine(RelayConfig.Builder config) {
        DatagramSender sender = new DatagramSender() {
            @Override
            public boolean writable() {
                return true;
            }

            @Override
            public boolean send(byte[] datagram, InetSocketAddress to) {
                try {
                    sent.add(new Sent(to, RelayFrameCodec.decodeDatagram(ByteBuffer.wrap(datagram))));
                } catch (RelayFrameException e) {
                    throw new AssertionError("the relay sent an undecodable datagram", e);
                }
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

    private RelayEngine engine() {
        return engine(RelayConfig.builder(devices.anchors()));
    }

    @Test
    void devicesAuthenticateOverDatagramsAndTheirPacketsAreForwardedByKey() {
        RelayEngine relay = engine();
        TestDevices.Device laptop = enroll(devices, "laptop");
        TestDevices.Device phone = enroll(devices, "phone");
        InetSocketAddress laptopAt = new InetSocketAddress("198.51.100.7", 40001);
        InetSocketAddress phoneAt = new InetSocketAddress("203.0.113.9", 51820);

        assertEquals(AuthStatus.OK, authenticate(relay, laptop, laptopAt));
        assertEquals(AuthStatus.OK, authenticate(relay, phone, phoneAt));
        assertEquals(Optional.of(Transport.UDP), relay.transportOf(phone.keys().publicKey()));

        receive(relay, laptopAt, new SendPacket(phone.keys().publicKey(), ByteBuffer.wrap(new byte[] {1, 2, 3})));
        ReceivedPacket packet = assertInstanceOf(ReceivedPacket.class, next(phoneAt));
        assertEquals(laptop.keys().publicKey(), packet.source());
        assertEquals(ByteBuffer.wrap(new byte[] {1, 2, 3}), packet.payload());
        assertEquals(1, relay.metrics().forwardedFrames(Transport.UDP, Transport.UDP));
    }

    @Test
    void aCertificateFromAnotherCaIsRefusedAndCounted() {
        RelayEngine relay = engine();
        TestDevices.Device stranger = enroll(new TestDevices("someone else's CA"), "stranger");
        InetSocketAddress at = new InetSocketAddress("198.51.100.8", 40002);

        assertEquals(AuthStatus.UNTRUSTED, authenticate(relay, stranger, at));
        assertEquals(0, relay.clientCount());
        assertEquals(1, relay.metrics().authentications(AuthStatus.UNTRUSTED));

        receive(relay, at, new SendPacket(stranger.keys().publicKey(), ByteBuffer.allocate(4)));
        assertEquals(AuthStatus.UNAUTHENTICATED, assertInstanceOf(AuthResult.class, next(at)).status());
        assertEquals(1, relay.metrics().drops(DropReason.UNAUTHENTICATED));
    }

    @Test
    void unpaddedHellosAndForeignDatagramsAreDroppedWithoutAnswer() {
        RelayEngine relay = engine();
        InetSocketAddress at = new InetSocketAddress("198.51.100.9", 40003);
        TestDevices.Device device = enroll(devices, "laptop");

        relay.onDatagram(at, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(
                new ClientHello(RelayHandshake.VERSION, device.keys().publicKey()))));
        relay.onDatagram(at, ByteBuffer.wrap(new byte[] {(byte) 0xff, 0, 0, 0, 0, 0, 0, 0}));

        assertTrue(sent.isEmpty(), "no answers: " + sent);
        assertEquals(1, relay.metrics().drops(DropReason.UNPADDED_HELLO));
        assertEquals(1, relay.metrics().drops(DropReason.NOT_RELAY));
    }

    @Test
    void rateLimitsAndIdleSessionsFollowTheInjectedClock() {
        RelayEngine relay = engine(RelayConfig.builder(devices.anchors())
                .clientRateLimit(1_000, 1_000)
                .idleTimeout(Duration.ofSeconds(30)));
        TestDevices.Device laptop = enroll(devices, "laptop");
        TestDevices.Device phone = enroll(devices, "phone");
        InetSocketAddress laptopAt = new InetSocketAddress("198.51.100.7", 40001);
        InetSocketAddress phoneAt = new InetSocketAddress("203.0.113.9", 51820);
        authenticate(relay, laptop, laptopAt);
        authenticate(relay, phone, phoneAt);
        sent.clear();

        SendPacket big = new SendPacket(phone.keys().publicKey(), ByteBuffer.allocate(600));
        receive(relay, laptopAt, big);
        receive(relay, laptopAt, big);
        assertEquals(1, relay.metrics().drops(DropReason.RATE_LIMITED), "the burst allows one");
        nanos += Duration.ofSeconds(1).toNanos();
        receive(relay, laptopAt, big);
        assertEquals(1, relay.metrics().drops(DropReason.RATE_LIMITED), "a second refills the bucket");
        assertEquals(2, relay.metrics().forwardedFrames(Transport.UDP, Transport.UDP));

        nanos += Duration.ofSeconds(30).toNanos();
        relay.sweep();
        assertEquals(1, relay.clientCount(), "the phone has been silent for 31 s, the laptop for 30 s");
        assertEquals(Optional.of(Transport.UDP), relay.transportOf(laptop.keys().publicKey()));
        List<RelayFrame> toPhone = new ArrayList<>();
        sent.stream().filter(s -> s.to().equals(phoneAt)).forEach(s -> toPhone.add(s.frame()));
        Goodbye goodbye = assertInstanceOf(Goodbye.class, toPhone.get(toPhone.size() - 1));
        assertEquals(CloseReason.IDLE, goodbye.reason());
    }

    @Test
    void certificatesAreCheckedAgainstTheInjectedWallClock() {
        RelayEngine relay = engine();
        TestDevices.Device laptop = devices.enroll("laptop", NOW.minusSeconds(60), NOW.plusSeconds(3_600));
        InetSocketAddress at = new InetSocketAddress("198.51.100.7", 40001);
        clock = Clock.fixed(NOW.plusSeconds(7_200), ZoneOffset.UTC);
        assertEquals(AuthStatus.EXPIRED, authenticate(relay, laptop, at));
        clock = Clock.fixed(NOW, ZoneOffset.UTC);
        assertEquals(AuthStatus.OK, authenticate(relay, laptop, at));
    }

    @Test
    void aStreamClientAuthenticatesAndReceivesWhatADatagramClientSends() {
        RelayEngine relay = engine();
        TestDevices.Device kiosk = enroll(devices, "kiosk");
        TestDevices.Device laptop = enroll(devices, "laptop");
        InetSocketAddress laptopAt = new InetSocketAddress("198.51.100.7", 40001);
        List<RelayFrame> toKiosk = new ArrayList<>();
        boolean[] open = {true};
        StreamConnection connection = relay.openStream(new InetSocketAddress("198.51.100.20", 50000),
                new FrameStream() {
                    @Override
                    public boolean writable() {
                        return true;
                    }

                    @Override
                    public void write(RelayFrame frame) {
                        toKiosk.add(frame);
                    }

                    @Override
                    public boolean isOpen() {
                        return open[0];
                    }

                    @Override
                    public void close() {
                        open[0] = false;
                    }
                });
        connection.onStreamFrame(ByteBuffer.wrap(RelayFrameCodec.encodeStream(
                new ClientHello(RelayHandshake.VERSION, kiosk.keys().publicKey()))));
        ServerChallenge challenge = assertInstanceOf(ServerChallenge.class, toKiosk.remove(0));
        connection.onStreamFrame(ByteBuffer.wrap(RelayFrameCodec.encodeStream(auth(kiosk, challenge))));
        assertEquals(AuthStatus.OK, assertInstanceOf(AuthResult.class, toKiosk.remove(0)).status());
        assertTrue(connection.authenticated());
        assertEquals(Optional.of(Transport.TCP), relay.transportOf(kiosk.keys().publicKey()));

        authenticate(relay, laptop, laptopAt);
        receive(relay, laptopAt, new SendPacket(kiosk.keys().publicKey(), ByteBuffer.wrap(new byte[] {9})));
        ReceivedPacket packet = assertInstanceOf(ReceivedPacket.class, toKiosk.get(toKiosk.size() - 1));
        assertEquals(laptop.keys().publicKey(), packet.source());

        relay.closeAll();
        assertEquals(CloseReason.SHUTDOWN, assertInstanceOf(Goodbye.class, toKiosk.get(toKiosk.size() - 1)).reason());
        assertFalse(open[0], "the stream is closed after the goodbye");
        assertEquals(0, relay.clientCount());
    }

    /** A device whose certificate is valid around {@link #NOW}, the relay's wall time. */
    private static TestDevices.Device enroll(TestDevices ca, String deviceId) {
        return ca.enroll(deviceId, NOW.minusSeconds(60), NOW.plus(Duration.ofDays(1)));
    }

    /** Hello, challenge, auth over datagrams from {@code at}; returns the relay's verdict (OK: with the address). */
    private AuthStatus authenticate(RelayEngine relay, TestDevices.Device device, InetSocketAddress at) {
        ClientHello hello = new ClientHello(RelayHandshake.VERSION, device.keys().publicKey());
        relay.onDatagram(at, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(hello, RelayHandshake.MIN_UDP_HELLO_BYTES)));
        ServerChallenge challenge = assertInstanceOf(ServerChallenge.class, next(at));
        receive(relay, at, auth(device, challenge));
        AuthResult result = assertInstanceOf(AuthResult.class, next(at));
        AuthStatus status = result.status();
        if (status == AuthStatus.OK) {
            UdpSessionKey key = RelayHandshake.clientSessionKey(device.keys(), challenge.serverKey(),
                    challenge.challenge()).orElseThrow();
            assertEquals(key.id(), result.udpSessionId(), "the relay names the session both ends derived");
            sessions.put(at, key);
            counters.put(at, 0L);
            // Endpoint reflection: the client learns the address the relay sees it at.
            assertEquals(at, assertInstanceOf(ObservedAddress.class, next(at)).address());
        }
        return status;
    }

    private static ClientAuth auth(TestDevices.Device device, ServerChallenge challenge) {
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
    private void receive(RelayEngine relay, InetSocketAddress from, RelayFrame frame) {
        UdpSessionKey key = sessions.get(from);
        boolean handshake = frame instanceof ClientHello || frame instanceof ClientAuth;
        RelayFrame onWire = key == null || handshake ? frame : key.seal(counters.merge(from, 1L, Long::sum) - 1, frame);
        relay.onDatagram(from, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(onWire)));
    }

    /** The next datagram the relay sent, which must be for {@code to}. */
    private RelayFrame next(InetSocketAddress to) {
        Sent next = sent.poll();
        assertTrue(next != null, "the relay sent nothing");
        assertEquals(to, next.to(), "sent to " + next.to() + ": " + next.frame());
        return next.frame();
    }
}
