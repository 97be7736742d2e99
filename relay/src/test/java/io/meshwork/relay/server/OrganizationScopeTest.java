package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame.PeerGone;
import io.meshwork.protocol.relay.RelayFrame.ReceivedDisco;
import io.meshwork.protocol.relay.RelayFrame.ReceivedPacket;
import io.meshwork.protocol.relay.RelayFrame.SendDisco;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.relay.testing.TestDevices;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The relay forwards only between devices of one organization, as their certificates name it. */
class OrganizationScopeTest {

    private final TestDevices devices = new TestDevices("organization test CA");
    private final EngineDriver driver = new EngineDriver();
    private final TestDevices.Device alpha1 = EngineDriver.enroll(devices, "o00000000000a", "alpha-1");
    private final TestDevices.Device alpha2 = EngineDriver.enroll(devices, "o00000000000a", "alpha-2");
    private final TestDevices.Device beta = EngineDriver.enroll(devices, "o00000000000b", "beta-1");
    private final TestDevices.Device unscoped = EngineDriver.enroll(devices, "legacy");
    private final InetSocketAddress alpha1At = new InetSocketAddress("198.51.100.1", 40001);
    private final InetSocketAddress alpha2At = new InetSocketAddress("198.51.100.2", 40002);
    private final InetSocketAddress betaAt = new InetSocketAddress("203.0.113.3", 40003);
    private final InetSocketAddress unscopedAt = new InetSocketAddress("203.0.113.4", 40004);
    private RelayEngine relay;

    @BeforeEach
    void connect() {
        relay = driver.engine(RelayConfig.builder(devices.anchors()));
        assertEquals(AuthStatus.OK, driver.authenticate(relay, alpha1, alpha1At));
        assertEquals(AuthStatus.OK, driver.authenticate(relay, alpha2, alpha2At));
        assertEquals(AuthStatus.OK, driver.authenticate(relay, beta, betaAt));
        assertEquals(AuthStatus.OK, driver.authenticate(relay, unscoped, unscopedAt));
        driver.sent.clear();
    }

    @Test
    void packetsToAnotherOrganizationsDeviceAreDroppedCountedAndAnsweredAsAbsent() {
        driver.receive(relay, alpha1At, new SendPacket(beta.keys().publicKey(), ByteBuffer.wrap(new byte[] {1})));
        driver.receive(relay, betaAt, new SendDisco(alpha1.keys().publicKey(), ByteBuffer.wrap(new byte[] {2})));

        assertEquals(2, relay.metrics().drops(DropReason.CROSS_ORGANIZATION));
        assertEquals(0, relay.metrics().forwardedFrames(Transport.UDP, Transport.UDP));
        assertEquals(beta.keys().publicKey(), assertInstanceOf(PeerGone.class, driver.next(alpha1At)).peer());
        assertEquals(alpha1.keys().publicKey(), assertInstanceOf(PeerGone.class, driver.next(betaAt)).peer());
        assertEquals(0, driver.sent.size(), "the other organization's device received nothing");
    }

    @Test
    void devicesOfOneOrganizationStillReachEachOther() {
        driver.receive(relay, alpha1At, new SendPacket(alpha2.keys().publicKey(), ByteBuffer.wrap(new byte[] {7})));
        driver.receive(relay, alpha2At, new SendDisco(alpha1.keys().publicKey(), ByteBuffer.wrap(new byte[] {8})));

        assertEquals(alpha1.keys().publicKey(),
                assertInstanceOf(ReceivedPacket.class, driver.next(alpha2At)).source());
        assertEquals(alpha2.keys().publicKey(),
                assertInstanceOf(ReceivedDisco.class, driver.next(alpha1At)).source());
        assertEquals(0, relay.metrics().drops(DropReason.CROSS_ORGANIZATION));
    }

    @Test
    void aCertificateWithoutOrganizationReachesNoOrganizationsDevice() {
        driver.receive(relay, unscopedAt, new SendPacket(alpha1.keys().publicKey(), ByteBuffer.wrap(new byte[] {1})));
        driver.receive(relay, alpha1At, new SendPacket(unscoped.keys().publicKey(), ByteBuffer.wrap(new byte[] {1})));

        assertEquals(2, relay.metrics().drops(DropReason.CROSS_ORGANIZATION));
        assertInstanceOf(PeerGone.class, driver.next(unscopedAt));
        assertInstanceOf(PeerGone.class, driver.next(alpha1At));
    }
}
