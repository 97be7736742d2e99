package io.meshwork.simulation.mesh;

import static io.meshwork.simulation.mesh.MeshAssertions.assertFlows;
import static io.meshwork.simulation.mesh.MeshAssertions.bothDirect;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.simulation.NatPreset;
import io.meshwork.simulation.Site;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The mesh lab's case in the simulation (docs/architecture.md, "Paths"): two input-accepting gateways among several
 * other peers, joining after them as in the lab, each a moment slow to follow the peer map (as a freshly started
 * agent is), so the peers' probes reach its gateway first. Each such gateway collides with several peers at once,
 * and the node's later flows leave from the displaced port (Linux's by-source table), which STUN (older flows) never
 * reports; the two must still take turns, each learning and naming the port its new flows get, and go direct within
 * 60 s, and stay direct with the endpoint-independent peers.
 */
class ConntrackCollisionAmongPeersSimulationTest {

    @Test
    void anInputAcceptingPairAmongManyPeersGoesDirectWithinAMinute() {
        try (SimMesh mesh = SimMesh.withSeed(2214)) {
            // As in the mesh lab: the other peers are up first, the two input-accepting nodes join a few seconds
            // apart, and every peer starts probing a newcomer as soon as the peer map names it.
            SimNode laptop = mesh.node("laptop", NatPreset.PORT_RESTRICTED_CONE.build(mesh.network(), "home"));
            SimNode desktop = mesh.node("desktop", NatPreset.FULL_CONE.build(mesh.network(), "office"));
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            SimNode tablet = mesh.node("tablet", NatPreset.SYMMETRIC_SEQUENTIAL.build(mesh.network(), "hotel"));
            String organization = mesh.group(laptop, desktop, phone, tablet);
            mesh.advance(Duration.ofSeconds(5));
            Site dock = NatPreset.INPUT_ACCEPTING.build(mesh.network(), "dock");
            Site vpc = NatPreset.INPUT_ACCEPTING.build(mesh.network(), "vpc");
            SimNode container = mesh.node("container", dock);
            mesh.advance(Duration.ofSeconds(2));
            container.join(mesh.control(), organization, Duration.ofMillis(1500));
            mesh.advance(Duration.ofSeconds(3));
            SimNode instance = mesh.node("instance", vpc);
            mesh.advance(Duration.ofSeconds(2));
            instance.join(mesh.control(), organization, Duration.ofMillis(1500));
            Duration bothUp = mesh.now();

            boolean direct = mesh.runUntil(() -> bothDirect(container, instance), Duration.ofSeconds(60));
            System.out.printf(Locale.ROOT, "among peers: container %s, instance %s, collisions %d + %d%n",
                    container.nat(), instance.nat(), dock.requireNat().conntrackCollisions(),
                    vpc.requireNat().conntrackCollisions());
            assertTrue(dock.requireNat().conntrackCollisions() > 0 && vpc.requireNat().conntrackCollisions() > 0,
                    "each input-accepting gateway met a collision");
            assertTrue(direct, "direct within 60 s: " + container.statusTo(instance) + " / "
                    + instance.statusTo(container));
            System.out.printf(Locale.ROOT, "input-accepting pair among peers: direct %.2f s (virtual) after both "
                    + "joined%n", (Math.max(container.firstDirectTo(instance).toNanos(),
                            instance.firstDirectTo(container).toNanos()) - bothUp.toNanos()) / 1e9);
            System.out.println("container: " + container.statusTo(instance).reason());
            System.out.println("instance: " + instance.statusTo(container).reason());
            // Each node's flows left from a displaced port that STUN never saw; each side learned its own and named it.
            assertTrue(container.statusTo(instance).endpoint().getPort() != SimNode.PORT
                    && instance.statusTo(container).endpoint().getPort() != SimNode.PORT,
                    "direct on the displaced ports the two learned and named");
            assertFlows(mesh, container, instance);
            for (SimNode other : List.of(laptop, desktop)) {
                assertTrue(mesh.runUntil(() -> bothDirect(container, other) && bothDirect(instance, other),
                        Duration.ofSeconds(30)), other.name() + ": " + container.statusTo(other));
            }
        }
    }
}
