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

    private static final Instant NOW = EngineDriver.NOW;

    private final TestDevices devices = new TestDevices("engine test CA");
    private final EngineDriver driver = new EngineDriver();

    private RelayEngine engine(RelayConfig.Builder config) {
        return driver.engine(config);
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

        assertTrue(driver.sent.isEmpty(), "no answers: " + driver.sent);
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
        driver.sent.clear();

        SendPacket big = new SendPacket(phone.keys().publicKey(), ByteBuffer.allocate(600));
        receive(relay, laptopAt, big);
        receive(relay, laptopAt, big);
        assertEquals(1, relay.metrics().drops(DropReason.RATE_LIMITED), "the burst allows one");
        driver.nanos += Duration.ofSeconds(1).toNanos();
        receive(relay, laptopAt, big);
        assertEquals(1, relay.metrics().drops(DropReason.RATE_LIMITED), "a second refills the bucket");
        assertEquals(2, relay.metrics().forwardedFrames(Transport.UDP, Transport.UDP));

        driver.nanos += Duration.ofSeconds(30).toNanos();
        relay.sweep();
        assertEquals(1, relay.clientCount(), "the phone has been silent for 31 s, the laptop for 30 s");
        assertEquals(Optional.of(Transport.UDP), relay.transportOf(laptop.keys().publicKey()));
        List<RelayFrame> toPhone = new ArrayList<>();
        driver.sent.stream().filter(s -> s.to().equals(phoneAt)).forEach(s -> toPhone.add(s.frame()));
        Goodbye goodbye = assertInstanceOf(Goodbye.class, toPhone.get(toPhone.size() - 1));
        assertEquals(CloseReason.IDLE, goodbye.reason());
    }

    @Test
    void certificatesAreCheckedAgainstTheInjectedWallClock() {
        RelayEngine relay = engine();
        TestDevices.Device laptop = devices.enroll("laptop", NOW.minusSeconds(60), NOW.plusSeconds(3_600));
        InetSocketAddress at = new InetSocketAddress("198.51.100.7", 40001);
        driver.clock = Clock.fixed(NOW.plusSeconds(7_200), ZoneOffset.UTC);
        assertEquals(AuthStatus.EXPIRED, authenticate(relay, laptop, at));
        driver.clock = Clock.fixed(NOW, ZoneOffset.UTC);
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

    private static TestDevices.Device enroll(TestDevices ca, String deviceId) {
        return EngineDriver.enroll(ca, deviceId);
    }

    private AuthStatus authenticate(RelayEngine relay, TestDevices.Device device, InetSocketAddress at) {
        return driver.authenticate(relay, device, at);
    }

    private static ClientAuth auth(TestDevices.Device device, ServerChallenge challenge) {
        return EngineDriver.auth(device, challenge);
    }

    private void receive(RelayEngine relay, InetSocketAddress from, RelayFrame frame) {
        driver.receive(relay, from, frame);
    }

    private RelayFrame next(InetSocketAddress to) {
        return driver.next(to);
    }
}
