package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame.ReceivedPacket;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A node's relay serves its own organization only ({@link RelayConfig.Builder#organization}): devices whose
 * certificates name another organization, or none, are refused at authentication and counted, and nothing they
 * send is forwarded.
 */
class NodeRelayScopeTest extends FourDevicesTest {

    NodeRelayScopeTest() {
        super("node relay test CA");
    }

    private RelayEngine relay;

    @BeforeEach
    void start() {
        relay = driver.engine(RelayConfig.builder(devices.anchors()).organization(HOME));
    }

    @Test
    void devicesOfItsOrganizationAreServedAndReachEachOther() {
        assertEquals(AuthStatus.OK, driver.authenticate(relay, alpha1, alpha1At));
        assertEquals(AuthStatus.OK, driver.authenticate(relay, alpha2, alpha2At));
        driver.sent.clear();

        driver.receive(relay, alpha1At, new SendPacket(alpha2.keys().publicKey(), ByteBuffer.wrap(new byte[] {7})));

        assertEquals(alpha1.keys().publicKey(), assertInstanceOf(ReceivedPacket.class, driver.next(alpha2At)).source());
        assertEquals(1, relay.metrics().forwardedFrames(Transport.UDP, Transport.UDP));
        assertEquals(0, relay.metrics().authentications(AuthStatus.OTHER_ORGANIZATION));
    }

    @Test
    void anotherOrganizationsDeviceAndAnUnscopedOneAreRefusedCountedAndNotForwarded() {
        assertEquals(AuthStatus.OK, driver.authenticate(relay, alpha1, alpha1At));
        driver.sent.clear();

        assertEquals(AuthStatus.OTHER_ORGANIZATION, driver.authenticate(relay, beta, betaAt));
        assertEquals(AuthStatus.OTHER_ORGANIZATION, driver.authenticate(relay, unscoped, unscopedAt));
        assertEquals(2, relay.metrics().authentications(AuthStatus.OTHER_ORGANIZATION));
        assertEquals(1, relay.clientCount(), "only the organization's device holds a session");

        // Without a session the refused device's frames go nowhere.
        driver.sent.clear();
        driver.receive(relay, betaAt, new SendPacket(alpha1.keys().publicKey(), ByteBuffer.wrap(new byte[] {1})));
        assertEquals(0, driver.sentTo(alpha1At), "alpha-1 received nothing from beta");
        assertEquals(0, relay.metrics().forwardedFrames(Transport.UDP, Transport.UDP));
    }

    @Test
    void aStandaloneRelayServesEveryOrganization() {
        RelayEngine standalone = driver.engine(RelayConfig.builder(devices.anchors()));
        assertEquals(AuthStatus.OK, driver.authenticate(standalone, beta, betaAt));
        assertEquals(AuthStatus.OK, driver.authenticate(standalone, alpha1, alpha1At));
        assertEquals(0, standalone.metrics().authentications(AuthStatus.OTHER_ORGANIZATION));
    }
}
