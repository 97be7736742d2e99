package io.meshwork.simulation.mesh;

import static io.meshwork.simulation.mesh.MeshAssertions.assertFlows;
import static io.meshwork.simulation.mesh.MeshAssertions.bothDirect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.simulation.NatPreset;
import io.meshwork.simulation.Site;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Two nodes behind Linux NATs whose input chains accept (docs/architecture.md, "Paths"): the first probes collide
 * with the conntrack entries the peer's probes left on each gateway, both mappings towards the peer move to other
 * ports, and the pair stays relayed unless the tunnels take turns. They must go direct within 60 s.
 */
class ConntrackCollisionSimulationTest {

    @Test
    void twoInputAcceptingGatewaysGoDirectWithinAMinute() {
        try (SimMesh mesh = SimMesh.withSeed(2212)) {
            Site home = NatPreset.INPUT_ACCEPTING.build(mesh.network(), "home");
            Site office = NatPreset.INPUT_ACCEPTING.build(mesh.network(), "office");
            SimNode laptop = mesh.node("laptop", home);
            SimNode server = mesh.node("server", office);
            mesh.group(laptop, server);
            assertTrue(mesh.runUntil(() -> laptop.statusTo(server) != null && server.statusTo(laptop) != null
                    && laptop.statusTo(server).attempts() >= 1 && !laptop.isDirectTo(server)
                    && laptop.statusTo(server).state() == TunnelStatus.State.RELAYED, Duration.ofSeconds(10)),
                    "the first attempt fails");
            long collisions = home.requireNat().conntrackCollisions() + office.requireNat().conntrackCollisions();
            assertTrue(collisions > 0, "the first probes collided with a gateway-local conntrack entry");
            TunnelStatus relayed = laptop.statusTo(server);

            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server), Duration.ofSeconds(60)),
                    "direct within 60 s: " + laptop.statusTo(server) + " / " + server.statusTo(laptop));
            // What status said while relayed: the suspicion, and what was tried.
            assertTrue(relayed.reason().contains("conntrack collision suspected"), relayed.reason());
            assertTrue(relayed.tried().stream().anyMatch(line -> line.startsWith("direct probes to ")
                    && line.contains("conntrack collision")), relayed.tried().toString());
            Duration later = max(laptop.firstDirectTo(server), server.firstDirectTo(laptop));
            System.out.printf(Locale.ROOT, "input-accepting x input-accepting: direct after %.2f s (virtual), "
                    + "%d collisions at the gateways%n", later.toNanos() / 1e9, collisions);
            assertFlows(mesh, laptop, server);
            assertTrue(laptop.statusTo(server).tried().isEmpty(), "a direct pair lists nothing tried");

            // Stays direct: the heartbeats and data keep the fresh 5-tuples, no new collision comes.
            long settled = home.requireNat().conntrackCollisions() + office.requireNat().conntrackCollisions();
            mesh.advance(Duration.ofSeconds(120));
            assertTrue(bothDirect(laptop, server), "still direct");
            assertEquals(settled, home.requireNat().conntrackCollisions() + office.requireNat().conntrackCollisions());
        }
    }

    @Test
    void anInputAcceptingGatewayAgainstAFirewalledOneGoesDirect() {
        try (SimMesh mesh = SimMesh.withSeed(2213)) {
            SimNode laptop = mesh.node("laptop", NatPreset.INPUT_ACCEPTING.build(mesh.network(), "home"));
            SimNode server = mesh.node("server", NatPreset.PORT_RESTRICTED_CONE.build(mesh.network(), "office"));
            mesh.group(laptop, server);
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server), Duration.ofSeconds(60)),
                    laptop.statusTo(server) + " / " + server.statusTo(laptop));
            assertFlows(mesh, laptop, server);
        }
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
