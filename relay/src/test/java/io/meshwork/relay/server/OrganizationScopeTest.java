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
import java.nio.ByteBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The relay forwards only between devices of one organization ({@link FourDevicesTest}), as their certificates name
 * it.
 */
class OrganizationScopeTest extends FourDevicesTest {

    OrganizationScopeTest() {
        super("organization test CA");
    }

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
