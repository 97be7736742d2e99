package io.meshwork.simulation.mesh;

import static io.meshwork.simulation.mesh.MeshAssertions.assertFlows;
import static io.meshwork.simulation.mesh.MeshAssertions.bothDirect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.tunnel.TunnelSettings;
import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.simulation.LinkProfile;
import io.meshwork.simulation.NatBehavior;
import io.meshwork.simulation.NatPreset;
import io.meshwork.simulation.PortAllocation;
import io.meshwork.simulation.Site;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What happens to a direct path when the network changes under it, on the simulated internet. */
class PathEventsSimulationTest {

    private static final TunnelSettings SETTINGS = TunnelSettings.defaults();

    @Test
    void aNatRebindingMidSessionRecoversTheDirectPath() {
        try (SimMesh mesh = SimMesh.withSeed(1)) {
            // A port-restricted NAT that picks a new random port for a flushed mapping: the old path is gone.
            Site home = mesh.network().addNatSite("home", NatBehavior.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                    FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT).withPortAllocation(PortAllocation.RANDOM),
                    mesh.network().internet());
            SimNode laptop = mesh.node("laptop", home);
            SimNode server = mesh.node("server", NatPreset.PORT_RESTRICTED_CONE.build(mesh.network(), "office"));
            mesh.group(laptop, server);
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server), Duration.ofSeconds(30)), "direct at first");
            InetSocketAddress before = server.statusTo(laptop).endpoint();

            home.requireNat().flushMappings();
            Duration flushed = mesh.now();
            assertTrue(mesh.runUntil(() -> !server.isDirectTo(laptop), Duration.ofSeconds(15)),
                    "the server notices the old mapping is dead");
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server)
                    && !before.equals(server.statusTo(laptop).endpoint()), Duration.ofSeconds(60)),
                    "direct again at the new mapping: " + server.statusTo(laptop));
            System.out.printf("rebinding: direct again at %s (was %s) %.1f s after the flush%n",
                    server.statusTo(laptop).endpoint(), before, (mesh.now().minus(flushed)).toNanos() / 1e9);
            assertFlows(mesh, laptop, server);
        }
    }

    @Test
    void aDeadDirectPathFallsBackToTheRelayWithinTheTimeoutAndComesBack() {
        try (SimMesh mesh = SimMesh.withSeed(2)) {
            Site home = NatPreset.FULL_CONE.build(mesh.network(), "home");
            Site office = NatPreset.RESTRICTED_CONE.build(mesh.network(), "office");
            SimNode laptop = mesh.node("laptop", home);
            SimNode server = mesh.node("server", office);
            mesh.group(laptop, server);
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server), Duration.ofSeconds(30)), "direct at first");

            // The home firewall starts dropping UDP to and from the peer; the relay is still reachable.
            InetAddress officeIp = office.requireNat().publicIp();
            home.requireNat().blockUdpWith(officeIp);
            Duration cut = mesh.now();
            assertTrue(mesh.runUntil(() -> !laptop.isDirectTo(server) && !server.isDirectTo(laptop),
                    SETTINGS.directTimeout().plus(SETTINGS.heartbeat()).plusSeconds(1)),
                    "relayed within the direct timeout plus one heartbeat");
            Duration fellBack = mesh.now().minus(cut);
            assertTrue(server.statusTo(laptop).reason().contains("stopped answering"), server.statusTo(laptop).reason());
            assertFlows(mesh, laptop, server);

            home.requireNat().unblockUdpWith(officeIp);
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server), Duration.ofSeconds(90)), "direct again");
            System.out.printf("dead path: relayed %.1f s after the cut, direct again %.1f s after the cut%n",
                    fellBack.toNanos() / 1e9, mesh.now().minus(cut).toNanos() / 1e9);
            assertFlows(mesh, laptop, server);
        }
    }

    @Test
    void aRoamingNodeIsReachedAgainBehindItsNewNat() {
        try (SimMesh mesh = SimMesh.withSeed(3)) {
            SimNode laptop = mesh.node("laptop", NatPreset.PORT_RESTRICTED_CONE.build(mesh.network(), "home"));
            SimNode server = mesh.node("server", NatPreset.FULL_CONE.build(mesh.network(), "office"));
            Site cafe = NatPreset.RESTRICTED_CONE.build(mesh.network(), "cafe");
            mesh.group(laptop, server);
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server), Duration.ofSeconds(30)), "direct at home");
            InetSocketAddress atHome = server.statusTo(laptop).endpoint();

            laptop.host().moveTo(cafe);
            Duration moved = mesh.now();
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server)
                    && !atHome.getAddress().equals(server.statusTo(laptop).endpoint().getAddress()),
                    Duration.ofSeconds(90)), "direct again from the cafe: " + server.statusTo(laptop));
            assertEquals(cafe.requireNat().publicIp(), server.statusTo(laptop).endpoint().getAddress());
            System.out.printf("roaming: direct again at %s %.1f s after the move%n", server.statusTo(laptop).endpoint(),
                    mesh.now().minus(moved).toNanos() / 1e9);
            assertFlows(mesh, laptop, server);
        }
    }

    @Test
    void tenPercentPacketLossStillConverges() {
        try (SimMesh mesh = SimMesh.withSeed(4)) {
            Site home = NatPreset.PORT_RESTRICTED_CONE.build(mesh.network(), "home");
            Site office = NatPreset.PORT_RESTRICTED_CONE.build(mesh.network(), "office");
            LinkProfile lossy = LinkProfile.of(Duration.ofMillis(20)).withJitter(Duration.ofMillis(5)).withLoss(0.10);
            home.uplink().setProfile(lossy);
            office.uplink().setProfile(lossy);
            SimNode laptop = mesh.node("laptop", home);
            SimNode server = mesh.node("server", office);
            mesh.group(laptop, server);
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server), Duration.ofSeconds(60)),
                    "direct despite loss: " + laptop.statusTo(server));
            System.out.printf("10%% loss: direct after %.1f s%n", mesh.now().toNanos() / 1e9);
            // Stays direct: single lost heartbeats must not tear the path down.
            mesh.advance(Duration.ofSeconds(60));
            assertTrue(bothDirect(laptop, server), "still direct: " + laptop.statusTo(server));
            assertEquals(TunnelStatus.State.DIRECT, laptop.statusTo(server).state());
            assertNotEquals(0, home.uplink().lost(), "the link did lose packets");
        }
    }

    @Test
    void aRelayRestartInterruptsOnlyRelayedPairsAndTheyResume() {
        try (SimMesh mesh = SimMesh.withSeed(5)) {
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            SimNode tablet = mesh.node("tablet", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "hotel"));
            SimNode laptop = mesh.node("laptop", NatPreset.FULL_CONE.build(mesh.network(), "home"));
            SimNode server = mesh.node("server", NatPreset.RESTRICTED_CONE.build(mesh.network(), "office"));
            mesh.group(phone, tablet);
            mesh.group(laptop, server);
            mesh.advance(Duration.ofSeconds(20));
            assertTrue(!phone.isDirectTo(tablet) && bothDirect(laptop, server), "one relayed pair, one direct pair");

            mesh.restartRelay(Duration.ofSeconds(5));
            int before = tablet.dataFrom(phone);
            phone.sendData(tablet);
            mesh.advance(Duration.ofSeconds(1));
            assertEquals(before, tablet.dataFrom(phone), "nothing is relayed while the relay is down");
            assertFlows(mesh, laptop, server);
            assertTrue(bothDirect(laptop, server), "the direct pair never noticed");

            mesh.advance(Duration.ofSeconds(5));
            assertFlows(mesh, phone, tablet);
            assertEquals(TunnelStatus.State.RELAYED, phone.statusTo(tablet).state());
        }
    }
}
