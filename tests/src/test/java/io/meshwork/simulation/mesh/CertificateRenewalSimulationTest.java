package io.meshwork.simulation.mesh;

import static io.meshwork.simulation.mesh.MeshAssertions.assertFlows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.relay.server.RelayEngine;
import io.meshwork.simulation.NatPreset;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Device certificates that live two minutes (docs/architecture.md, "Certificate renewal"): the nodes' real renewer
 * takes a new one at two thirds of each, their relay clients authenticate with it at once, and the replaced one is
 * revoked at the relay ten seconds later; relayed pairs (one over UDP, one over TCP) pass traffic throughout ten
 * virtual minutes. Without renewal the same pair is cut off once the certificates expire.
 */
class CertificateRenewalSimulationTest {

    private static final Duration LIFETIME = Duration.ofMinutes(2);
    private static final Duration GRACE = Duration.ofSeconds(10);

    @Test
    void renewedCertificatesKeepEveryRelayedPairUpForTenMinutes() {
        try (SimMesh mesh = SimMesh.withSeed(41).shortLivedCertificates(LIFETIME, GRACE, true)) {
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            SimNode tablet = mesh.node("tablet", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "hotel"));
            SimNode kiosk = mesh.node("kiosk", NatPreset.UDP_BLOCKED.build(mesh.network(), "guest"));
            mesh.group(phone, tablet, kiosk);
            mesh.advance(Duration.ofSeconds(20));
            RelayEngine relay = mesh.relayEngine().orElseThrow();
            assertEquals(Optional.of(Transport.TCP), relay.transportOf(key(kiosk)), "UDP is blocked at the kiosk");

            SimNode[][] pairs = {{phone, tablet}, {phone, kiosk}, {tablet, kiosk}};
            int windows = 0;
            while (mesh.now().compareTo(Duration.ofMinutes(10)) < 0) {
                // Traffic every 200 ms each way on every pair; every 5 s window delivers some each way.
                int[][] before = new int[pairs.length][2];
                for (int p = 0; p < pairs.length; p++) {
                    before[p][0] = pairs[p][1].dataFrom(pairs[p][0]);
                    before[p][1] = pairs[p][0].dataFrom(pairs[p][1]);
                }
                for (int tick = 0; tick < 25; tick++) {
                    for (SimNode[] pair : pairs) {
                        pair[0].sendData(pair[1]);
                        pair[1].sendData(pair[0]);
                    }
                    mesh.advance(Duration.ofMillis(200));
                }
                for (int p = 0; p < pairs.length; p++) {
                    SimNode a = pairs[p][0];
                    SimNode b = pairs[p][1];
                    assertTrue(b.dataFrom(a) > before[p][0], a + " -> " + b + " by " + mesh.now());
                    assertTrue(a.dataFrom(b) > before[p][1], b + " -> " + a + " by " + mesh.now());
                }
                windows++;
            }
            assertTrue(windows >= 110, "checked all along: " + windows);
            // Each node renews every 88 s (two thirds of 2 min 12 s): at least 6 times each in 10 minutes.
            assertTrue(mesh.certificateRenewals() >= 18, "renewals: " + mesh.certificateRenewals());
            assertFalse(phone.isDirectTo(tablet), "the relay was their only path");
            assertEquals(0, relay.metrics().authentications(AuthStatus.EXPIRED), "no certificate ran out");
            assertEquals(0, relay.metrics().authentications(AuthStatus.REVOKED),
                    "no client came back with a replaced certificate");
        }
    }

    @Test
    void withoutRenewalTheRelayedPairIsCutOffWhenTheCertificatesExpire() {
        try (SimMesh mesh = SimMesh.withSeed(42).shortLivedCertificates(LIFETIME, GRACE, false)) {
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            SimNode tablet = mesh.node("tablet", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "hotel"));
            mesh.group(phone, tablet);
            mesh.advance(Duration.ofSeconds(20));
            assertFlows(mesh, phone, tablet);

            mesh.advance(Duration.ofMinutes(3));
            int before = tablet.dataFrom(phone);
            for (int i = 0; i < 5; i++) {
                phone.sendData(tablet);
            }
            mesh.advance(Duration.ofSeconds(1));
            assertEquals(before, tablet.dataFrom(phone), "nothing is relayed on expired certificates");
            assertEquals(0, mesh.certificateRenewals());
            assertEquals(Optional.empty(), mesh.relayEngine().orElseThrow().transportOf(key(phone)));
        }
    }

    private static RelayKey key(SimNode node) {
        return RelayKey.of(node.publicKey().toBytes());
    }
}
