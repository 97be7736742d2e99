package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.ObservedAddress;
import io.meshwork.protocol.relay.RelayFrame.ReceivedPacket;
import io.meshwork.protocol.relay.RelayFrame.Sealed;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayHandshake;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.protocol.relay.UdpSessionKey;
import io.meshwork.relay.testing.TestDevices;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every UDP frame after the handshake is sealed with the session's key: a datagram from a spoofed source, with a
 * forged tag, replayed, or not sealed at all reaches nobody and is counted, while the device's own traffic flows.
 */
class UdpSessionSealingTest {

    private final TestDevices devices = new TestDevices("sealing test CA");
    private final EngineDriver driver = new EngineDriver();
    private final TestDevices.Device laptop = EngineDriver.enroll(devices, "laptop");
    private final TestDevices.Device phone = EngineDriver.enroll(devices, "phone");
    private final InetSocketAddress laptopAt = new InetSocketAddress("198.51.100.7", 40001);
    private final InetSocketAddress phoneAt = new InetSocketAddress("203.0.113.9", 51820);
    private final InetSocketAddress attackerAt = new InetSocketAddress("192.0.2.66", 40001);
    private RelayEngine relay;

    @BeforeEach
    void connect() {
        relay = driver.engine(RelayConfig.builder(devices.anchors()));
        assertEquals(AuthStatus.OK, driver.authenticate(relay, laptop, laptopAt));
        assertEquals(AuthStatus.OK, driver.authenticate(relay, phone, phoneAt));
        driver.sent.clear();
    }

    private SendPacket toPhone(int marker) {
        return new SendPacket(phone.keys().publicKey(), ByteBuffer.wrap(new byte[] {4, 0, 0, 0, (byte) marker}));
    }

    private void assertPhoneGets(int marker) {
        ReceivedPacket packet = assertInstanceOf(ReceivedPacket.class, driver.next(phoneAt));
        assertEquals(laptop.keys().publicKey(), packet.source());
        assertEquals(marker, packet.payload().get(4));
    }

    @Test
    void aValidSessionDatagramFromAnotherAddressReachesNobody() {
        byte[] captured = driver.datagram(laptopAt, toPhone(1));
        relay.onDatagram(attackerAt, ByteBuffer.wrap(captured));

        assertEquals(AuthStatus.UNAUTHENTICATED,
                assertInstanceOf(AuthResult.class, driver.next(attackerAt)).status(), "the sender has no session");
        assertEquals(0, driver.sentTo(phoneAt));
        assertEquals(1, relay.metrics().drops(DropReason.UNAUTHENTICATED));
        assertEquals(0, relay.metrics().forwardedFrames(Transport.UDP, Transport.UDP));

        driver.receive(relay, laptopAt, toPhone(2));
        assertPhoneGets(2);
    }

    @Test
    void aSpoofedSourceWithoutTheKeyIsDroppedAsBadMac() {
        UdpSessionKey laptopKey = driver.sessions.get(laptopAt);
        UdpSessionKey guessed = RelayHandshake.clientSessionKey(RelayKeyPair.generate(new SecureRandom()),
                relay.publicKey(), ByteBuffer.allocate(RelayHandshake.CHALLENGE_BYTES)).orElseThrow();
        Sealed forged = guessed.seal(0, toPhone(1));
        relay.onDatagram(laptopAt, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(
                new Sealed(laptopKey.id(), 1_000, forged.tag(), forged.inner()))));

        assertEquals(1, relay.metrics().drops(DropReason.BAD_MAC));
        assertEquals(0, driver.sent.size(), "nothing forwarded, nothing answered");

        driver.receive(relay, laptopAt, toPhone(2));
        assertPhoneGets(2);
        assertEquals(1, relay.metrics().forwardedFrames(Transport.UDP, Transport.UDP));
    }

    @Test
    void aReplayedDatagramIsDroppedEvenAfterTheAuthenticationIsReplayedToo() {
        byte[] first = driver.datagram(laptopAt, toPhone(1));
        relay.onDatagram(laptopAt, ByteBuffer.wrap(first));
        assertPhoneGets(1);
        relay.onDatagram(laptopAt, ByteBuffer.wrap(first));
        assertEquals(1, relay.metrics().drops(DropReason.REPLAYED));

        // Authenticating again with the same challenge opens the same session: its replay window stays.
        relay.onDatagram(laptopAt, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(
                new ClientHello(RelayHandshake.VERSION, laptop.keys().publicKey()), RelayHandshake.MIN_UDP_HELLO_BYTES)));
        ServerChallenge challenge = assertInstanceOf(ServerChallenge.class, driver.next(laptopAt));
        byte[] auth = RelayFrameCodec.encodeDatagram(EngineDriver.auth(laptop, challenge));
        relay.onDatagram(laptopAt, ByteBuffer.wrap(auth));
        long sessionId = assertInstanceOf(AuthResult.class, driver.next(laptopAt)).udpSessionId();
        assertInstanceOf(ObservedAddress.class, driver.next(laptopAt));
        driver.sessions.put(laptopAt, RelayHandshake.clientSessionKey(laptop.keys(), challenge.serverKey(),
                challenge.challenge()).orElseThrow());
        driver.receive(relay, laptopAt, toPhone(2));
        assertPhoneGets(2);

        relay.onDatagram(laptopAt, ByteBuffer.wrap(auth));
        assertEquals(sessionId, assertInstanceOf(AuthResult.class, driver.next(laptopAt)).udpSessionId());
        assertInstanceOf(ObservedAddress.class, driver.next(laptopAt));
        UdpSessionKey key = driver.sessions.get(laptopAt);
        relay.onDatagram(laptopAt, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(key.seal(0, toPhone(3)))));
        assertEquals(2, relay.metrics().drops(DropReason.REPLAYED));
        assertEquals(0, driver.sentTo(phoneAt));
    }

    @Test
    void unsealedFramesAndOtherSessionsFromTheDevicesAddressAreDroppedWithoutAnswer() {
        relay.onDatagram(laptopAt, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(toPhone(1))));
        UdpSessionKey key = driver.sessions.get(laptopAt);
        Sealed sealed = key.seal(5, toPhone(1));
        relay.onDatagram(laptopAt, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(
                new Sealed(sealed.sessionId() + 1, 5, sealed.tag(), sealed.inner()))));

        assertEquals(1, relay.metrics().drops(DropReason.UNSEALED));
        assertEquals(1, relay.metrics().drops(DropReason.UNKNOWN_SESSION));
        assertEquals(0, driver.sent.size(), "a spoofer cannot make the relay tell the device to authenticate again");
        driver.receive(relay, laptopAt, toPhone(2));
        assertPhoneGets(2);
    }

    @Test
    void sealedHandshakeFramesAreRefused() {
        UdpSessionKey key = driver.sessions.get(laptopAt);
        RelayFrame hello = new ClientHello(RelayHandshake.VERSION, laptop.keys().publicKey());
        relay.onDatagram(laptopAt, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(key.seal(900, hello))));
        assertEquals(1, relay.metrics().drops(DropReason.UNEXPECTED_FRAME));
        assertEquals(0, driver.sent.size());
    }

    @Test
    void versionOneClientsAreToldTheRelaysVersion() {
        InetSocketAddress oldAt = new InetSocketAddress("198.51.100.99", 40009);
        relay.onDatagram(oldAt, ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(
                new ClientHello(1, laptop.keys().publicKey()), RelayHandshake.MIN_UDP_HELLO_BYTES)));
        AuthResult refused = assertInstanceOf(AuthResult.class, driver.next(oldAt));
        assertEquals(AuthStatus.UNSUPPORTED_VERSION, refused.status());
    }
}
