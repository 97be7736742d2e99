package io.meshwork.simulation.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.simulation.NatPreset;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Failover (docs/architecture.md, "Relay selection and failover") with three real relays: killing the relay a
 * relayed pair uses (one node behind a random-port symmetric NAT on UDP, one whose UDP is blocked on TCP) moves both
 * to the next relay of the list on their own, and the pair passes traffic again within 10 s; a direct pair beside
 * them loses nothing.
 */
class RelayFailoverSimulationTest {

    @Test
    void killingTheRelayOfARelayedPairMovesBothToTheNextWithinTenSecondsAndLeavesDirectPairsAlone() {
        try (SimMesh mesh = SimMesh.withSeed(51).addRelay("relay-2", "198.51.100.20")
                .addRelay("relay-3", "198.51.100.30")) {
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            SimNode kiosk = mesh.node("kiosk", NatPreset.UDP_BLOCKED.build(mesh.network(), "guest"));
            SimNode desk = mesh.node("desk", NatPreset.FULL_CONE.build(mesh.network(), "office"));
            SimNode laptop = mesh.node("laptop", NatPreset.FULL_CONE.build(mesh.network(), "home"));
            mesh.group(phone, kiosk, desk, laptop);
            mesh.runUntil(() -> MeshAssertions.bothDirect(desk, laptop), Duration.ofSeconds(60));
            mesh.advance(Duration.ofSeconds(5));
            assertTrue(MeshAssertions.bothDirect(desk, laptop));
            assertEquals("relay", phone.relayName());
            assertEquals(Optional.of(Transport.TCP), mesh.relayEngine("relay").orElseThrow()
                    .transportOf(key(kiosk)));
            MeshAssertions.assertFlows(mesh, phone, kiosk);

            int directBefore = laptop.dataFrom(desk);
            int toKiosk = kiosk.dataFrom(phone);
            int toPhone = phone.dataFrom(kiosk);
            Duration killed = mesh.now();
            mesh.crashRelay("relay", Duration.ofMinutes(10));
            Duration resumed = null;
            int directSent = 0;
            while (mesh.now().minus(killed).compareTo(Duration.ofSeconds(30)) < 0) {
                phone.sendData(kiosk);
                kiosk.sendData(phone);
                desk.sendData(laptop);
                directSent++;
                mesh.advance(Duration.ofMillis(100));
                if (resumed == null && kiosk.dataFrom(phone) > toKiosk && phone.dataFrom(kiosk) > toPhone) {
                    resumed = mesh.now().minus(killed);
                }
            }
            assertTrue(resumed != null && resumed.compareTo(Duration.ofSeconds(10)) <= 0,
                    "the relayed pair resumed after " + resumed);
            System.out.printf("relay failover: relayed pair (UDP + TCP) resumed %d ms after its relay was killed%n",
                    resumed.toMillis());
            assertEquals("relay-2", phone.relayName(), "both move to the next relay of the list");
            assertEquals("relay-2", kiosk.relayName());
            assertEquals(Optional.of(Transport.UDP), mesh.relayEngine("relay-2").orElseThrow()
                    .transportOf(key(phone)));
            assertEquals(Optional.of(Transport.TCP), mesh.relayEngine("relay-2").orElseThrow()
                    .transportOf(key(kiosk)));
            assertEquals(0, mesh.relayEngine("relay-3").orElseThrow().clientCount());
            assertTrue(MeshAssertions.bothDirect(desk, laptop), "the direct pair was not disturbed");
            assertEquals(directBefore + directSent, laptop.dataFrom(desk), "and lost nothing");
            MeshAssertions.assertFlows(mesh, phone, kiosk);
        }
    }

    private static RelayKey key(SimNode node) {
        return RelayKey.of(node.publicKey().toBytes());
    }
}
