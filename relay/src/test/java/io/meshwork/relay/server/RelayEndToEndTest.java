package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.relay.server.RelayHarness.Peer;
import io.meshwork.relay.testing.TestDevices;
import io.meshwork.relay.testing.TestTls;
import io.netty.handler.ssl.SslContext;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RelayEndToEndTest {

    private final RelayHarness harness = new RelayHarness();

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void twoUdpClientsExchangeDatagrams() throws Exception {
        harness.start(config -> { });
        Peer alice = harness.peer("alice", harness.both());
        Peer bob = harness.peer("bob", harness.both());
        assertEquals(Optional.of(Transport.UDP), alice.awaitConnected().transport());
        assertEquals(Optional.of(Transport.UDP), bob.awaitConnected().transport());
        alice.deliverTo(bob, 50, "a2b");
        bob.deliverTo(alice, 50, "b2a");
        assertTrue(harness.relay.metrics().forwardedFrames(Transport.UDP, Transport.UDP) >= 100);
    }

    @Test
    void twoTcpClientsExchangeDatagramsOverTls() throws Exception {
        TestTls tls = TestTls.selfSigned(RelayHarness.LOOPBACK);
        harness.start(config -> config.tls(serverContext(tls)));
        RelayAddress address = harness.tcpOnly().withTls(tls.clientFactory());
        Peer alice = harness.peer("alice", address);
        Peer bob = harness.peer("bob", address);
        assertEquals(Optional.of(Transport.TCP), alice.awaitConnected().transport());
        assertEquals(Optional.of(Transport.TCP), bob.awaitConnected().transport());
        assertEquals(0, alice.deliverTo(bob, 50, "a2b"), "TCP needs no resends");
        assertEquals(0, bob.deliverTo(alice, 50, "b2a"));
        assertEquals(100, harness.relay.metrics().forwardedFrames(Transport.TCP, Transport.TCP));
    }

    @Test
    void udpAndTcpClientsReachEachOther() throws Exception {
        harness.start(config -> { });
        Peer udpPeer = harness.peer("udp-peer", harness.udpOnly());
        Peer tcpPeer = harness.peer("tcp-peer", harness.tcpOnly());
        assertEquals(Optional.of(Transport.UDP), udpPeer.awaitConnected().transport());
        assertEquals(Optional.of(Transport.TCP), tcpPeer.awaitConnected().transport());
        udpPeer.deliverTo(tcpPeer, 30, "u2t");
        tcpPeer.deliverTo(udpPeer, 30, "t2u");
        assertTrue(harness.relay.metrics().forwardedFrames(Transport.UDP, Transport.TCP) >= 30);
        assertTrue(harness.relay.metrics().forwardedFrames(Transport.TCP, Transport.UDP) >= 30);
    }

    @Test
    void discoMessagesAndPeerGoneTravelToo() throws Exception {
        harness.start(config -> { });
        Peer alice = harness.peer("alice", harness.both());
        Peer bob = harness.peer("bob", harness.tcpOnly());
        alice.awaitConnected();
        bob.awaitConnected();
        bob.client.sendDisco(alice.key(), ByteBuffer.wrap("call-me-maybe".getBytes(StandardCharsets.UTF_8)));
        assertEquals(bob.key() + " call-me-maybe", alice.discos.poll(5, TimeUnit.SECONDS));
        TestDevices.Device absent = harness.devices.enroll("absent");
        alice.client.sendPacket(absent.keys().publicKey(), ByteBuffer.allocate(4));
        assertEquals(absent.keys().publicKey(), alice.peersGone.poll(5, TimeUnit.SECONDS));
        assertTrue(harness.relay.metrics().drops(DropReason.NO_DESTINATION) >= 1);
    }

    @Test
    void fallsBackToTcpWhenUdpGetsNoAnswer() throws Exception {
        harness.start(config -> { });
        DatagramSocket silent = harness.track(new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0)));
        RelayAddress address = RelayAddress.of((InetSocketAddress) silent.getLocalSocketAddress(),
                harness.relay.tcpAddress().orElseThrow());
        Peer alice = harness.peer("alice", address);
        Peer bob = harness.peer("bob", harness.both());
        assertEquals(Optional.of(Transport.TCP), alice.awaitConnected().transport());
        assertEquals(Optional.of(Transport.UDP), bob.awaitConnected().transport());
        alice.deliverTo(bob, 10, "fallback");
        bob.deliverTo(alice, 10, "back");
    }

    @Test
    void movesBackToUdpWhenItWorksAgain() throws Exception {
        harness.start(config -> { });
        UdpGate gate = harness.track(new UdpGate(harness.relay.udpAddress().orElseThrow()));
        RelayAddress address = RelayAddress.of(gate.address(), harness.relay.tcpAddress().orElseThrow());
        Peer alice = harness.peer("alice", address,
                RelayHarness.FAST.withUdpUpgradeInterval(Duration.ofMillis(300)));
        Peer bob = harness.peer("bob", harness.both());
        assertEquals(Optional.of(Transport.TCP), alice.awaitConnected().transport());
        bob.awaitConnected();
        alice.deliverTo(bob, 5, "over-tcp");
        gate.open();
        alice.awaitStatus(status -> status.transport().equals(Optional.of(Transport.UDP)), Duration.ofSeconds(10));
        assertEquals(Optional.of(Transport.UDP), harness.relay.transportOf(alice.key()));
        alice.deliverTo(bob, 5, "over-udp");
        bob.deliverTo(alice, 5, "back-over-udp");
    }

    @Test
    void reportsTheObservedUdpSource() throws Exception {
        harness.start(config -> { });
        Peer alice = harness.peer("alice", harness.both());
        RelayStatus status = alice.awaitStatus(s -> s.connected() && s.observedAddress().isPresent(),
                Duration.ofSeconds(10));
        assertEquals(alice.socket.localAddress(), status.observedAddress().orElseThrow());
    }

    @Test
    void refusesUntrustedRevokedAndExpiredDevices() throws Exception {
        harness.start(config -> { });
        TestDevices.Device revoked = harness.devices.enroll("revoked");
        harness.revocations.replace(Set.of(revoked.certificate().getSerialNumber()));
        Peer stranger = harness.peer(new TestDevices("control CA").enroll("stranger"), harness.both());
        Peer revokedPeer = harness.peer(revoked, harness.tcpOnly());
        Instant now = Instant.now();
        Peer expired = harness.peer(harness.devices.enroll("expired", now.minusSeconds(7200), now.minusSeconds(60)),
                harness.udpOnly());
        assertRefused(stranger, AuthStatus.UNTRUSTED);
        assertRefused(revokedPeer, AuthStatus.REVOKED);
        assertRefused(expired, AuthStatus.EXPIRED);
        assertEquals(0, harness.relay.clientCount());
        assertTrue(harness.relay.metrics().authentications(AuthStatus.REVOKED) >= 1);
    }

    private static void assertRefused(Peer peer, AuthStatus status) throws InterruptedException {
        RelayStatus refused = peer.awaitStatus(s -> s.lastRefusal().isPresent(), Duration.ofSeconds(10));
        assertEquals(Optional.of(status), refused.lastRefusal());
        assertFalse(peer.client.status().connected());
    }

    @Test
    void aFullRelayRefusesNewDevicesButNotReturningOnes() throws Exception {
        harness.start(config -> config.maxClients(1));
        Peer alice = harness.peer("alice", harness.tcpOnly());
        alice.awaitConnected();
        Peer bob = harness.peer("bob", harness.udpOnly());
        assertRefused(bob, AuthStatus.FULL);
        Peer aliceAgain = harness.peer(alice.device, harness.udpOnly());
        assertEquals(Optional.of(Transport.UDP), aliceAgain.awaitConnected().transport());
    }

    @Test
    void revocationCutsOffAConnectedDevice() throws Exception {
        harness.start(config -> { });
        Peer alice = harness.peer("alice", harness.both());
        Peer bob = harness.peer("bob", harness.tcpOnly());
        alice.awaitConnected();
        bob.awaitConnected();
        harness.revocations.replace(Set.of(alice.device.certificate().getSerialNumber()));
        RelayStatus status = alice.awaitStatus(s -> s.lastRefusal().isPresent(), Duration.ofSeconds(10));
        assertEquals(Optional.of(AuthStatus.REVOKED), status.lastRefusal());
        assertEquals(Optional.empty(), harness.relay.transportOf(alice.key()));
        assertEquals(Optional.of(Transport.TCP), harness.relay.transportOf(bob.key()));
    }

    @Test
    void aCertificateExpiringDuringTheSessionEndsIt() throws Exception {
        harness.start(config -> { });
        Instant now = Instant.now();
        Peer alice = harness.peer(harness.devices.enroll("alice", now.minusSeconds(60), now.plusSeconds(2)),
                harness.udpOnly());
        alice.awaitConnected();
        RelayStatus status = alice.awaitStatus(s -> s.lastRefusal().isPresent(), Duration.ofSeconds(10));
        assertEquals(Optional.of(AuthStatus.EXPIRED), status.lastRefusal());
        assertEquals(0, harness.relay.clientCount());
    }

    @Test
    void unauthenticatedSendersReachNobody() throws Exception {
        harness.start(config -> { });
        Peer bob = harness.peer("bob", harness.both());
        bob.awaitConnected();
        try (DatagramSocket intruder = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0))) {
            intruder.setSoTimeout(5_000);
            byte[] frame = RelayFrameCodec.encodeDatagram(
                    new SendPacket(bob.key(), ByteBuffer.wrap(new byte[] {1})));
            intruder.send(new DatagramPacket(frame, frame.length, harness.relay.udpAddress().orElseThrow()));
            DatagramPacket answer = new DatagramPacket(new byte[1500], 1500);
            intruder.receive(answer);
            AuthResult result = (AuthResult)
                    RelayFrameCodec.decodeDatagram(
                            ByteBuffer.wrap(answer.getData(), 0, answer.getLength()));
            assertEquals(AuthStatus.UNAUTHENTICATED, result.status());
        }
        assertEquals(null, bob.packets.poll(300, TimeUnit.MILLISECONDS));
        assertEquals(1, harness.relay.metrics().drops(DropReason.UNAUTHENTICATED));
    }

    private static SslContext serverContext(TestTls tls) {
        try {
            return tls.serverContext();
        } catch (SSLException e) {
            throw new IllegalStateException(e);
        }
    }
}
