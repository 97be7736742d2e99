package io.meshwork.simulation.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.simulation.LinkProfile;
import io.meshwork.simulation.NatPreset;
import io.meshwork.simulation.Site;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Home relays (docs/architecture.md, "Relay selection and failover") with three real relays in two regions, on
 * virtual time: two relays in "eu", one in "us", 40 ms apart one way. Each node measures every relay and keeps the
 * nearest as its home; peers with different homes talk through each other's; a home moves only to a clearly faster
 * relay and never while it carries traffic; killing a home relay moves its clients and their relayed peers on their
 * own within 10 s.
 */
class HomeRelaySimulationTest {

    private static final Duration BETWEEN_REGIONS = Duration.ofMillis(40);

    /** The relays: "relay" and "relay-eu-2" in eu, "relay-us" in us. */
    private static SimMesh twoRegions(long seed) {
        SimMesh mesh = SimMesh.withSeed(seed).placeRelay("relay", "eu")
                .addRelay("relay-eu-2", "198.51.100.20", "eu")
                .addRelay("relay-us", "198.51.100.30", "us");
        mesh.network().setRegionLatency("eu", "us", BETWEEN_REGIONS);
        return mesh;
    }

    private static SimNode node(SimMesh mesh, String name, NatPreset nat, String region) {
        Site site = nat.build(mesh.network(), name + "-site");
        mesh.network().placeInRegion(site, region);
        return mesh.node(name, site);
    }

    @Test
    void eachNodeKeepsTheNearestRelayAndPeersWithDifferentHomesTalkThroughEachOthers() {
        try (SimMesh mesh = twoRegions(71)) {
            SimNode paris = node(mesh, "paris", NatPreset.SYMMETRIC_RANDOM, "eu");
            SimNode berlin = node(mesh, "berlin", NatPreset.UDP_BLOCKED, "eu");
            SimNode nyc = node(mesh, "nyc", NatPreset.SYMMETRIC_RANDOM, "us");
            mesh.group(paris, berlin, nyc);
            mesh.runUntil(() -> "relay-us".equals(nyc.relayName()) && nyc.relays().latencies().size() == 3,
                    Duration.ofSeconds(10));
            mesh.advance(Duration.ofSeconds(5));

            assertEquals("relay", paris.relayName(), "the nearest (a tie in eu goes to the first by name)");
            assertEquals("relay", berlin.relayName(), "measured over TCP where UDP is blocked");
            assertEquals("relay-us", nyc.relayName());
            Duration near = paris.relays().latencies().get("relay");
            Duration far = paris.relays().latencies().get("relay-us");
            assertTrue(far.minus(near).compareTo(BETWEEN_REGIONS.multipliedBy(2)) >= 0, paris.relays().toString());
            System.out.printf("home relays: paris %s, berlin %s, nyc %s%n", paris.relays().latencies(),
                    berlin.relays().latencies(), nyc.relays().latencies());

            assertEquals("relay-us", paris.peerInfo(nyc).homeRelay(),
                    "each peer record carries the peer's home relay");
            MeshAssertions.assertFlows(mesh, paris, nyc);
            MeshAssertions.assertFlows(mesh, berlin, nyc);
            MeshAssertions.assertFlows(mesh, paris, berlin);
            assertEquals("relay-us", paris.relayTo(nyc), "to a peer: its home relay");
            assertEquals("relay", nyc.relayTo(paris));
            assertEquals("relay", paris.relayTo(berlin), "a shared home");
            assertTrue(paris.relays().connected().containsAll(List.of("relay", "relay-us")));
            assertFalse(paris.relays().connected().contains("relay-eu-2"), "no connection nobody needs");
            assertEquals(0, paris.relayMoves() + berlin.relayMoves(), "the first listed relay was their nearest");
            assertEquals(1, nyc.relayMoves(), "nyc started on the first listed relay and moved once measured");
        }
    }

    @Test
    void aHomeMovesOnlyToAClearlyFasterRelayAndNeverWhileItCarriesTraffic() {
        try (SimMesh mesh = twoRegions(72)) {
            SimNode paris = node(mesh, "paris", NatPreset.SYMMETRIC_RANDOM, "eu");
            SimNode lyon = node(mesh, "lyon", NatPreset.SYMMETRIC_RANDOM, "eu");
            mesh.group(paris, lyon);
            mesh.advance(Duration.ofSeconds(10));
            assertEquals("relay", paris.relayName());
            assertEquals("relay", lyon.relayName());

            // relay-eu-2 becomes 8 ms faster (round trip): not enough to move.
            mesh.network().host("relay-eu-2").link().setProfile(LinkProfile.of(Duration.ofMillis(1)));
            mesh.advance(Duration.ofMinutes(3));
            assertEquals("relay", paris.relayName(), paris.relays().toString());
            assertEquals(0, paris.relayMoves());

            // "relay" becomes 60 ms slower, while the pair talks through it: it stays their home.
            mesh.network().host("relay").link().setProfile(LinkProfile.of(Duration.ofMillis(35)));
            Duration busyUntil = mesh.now().plus(Duration.ofMinutes(3));
            while (mesh.now().compareTo(busyUntil) < 0) {
                paris.sendData(lyon);
                lyon.sendData(paris);
                mesh.advance(Duration.ofSeconds(1));
            }
            assertEquals("relay", paris.relayName(), "busy: never moved away from");
            assertEquals("relay", lyon.relayName());
            assertTrue(paris.relays().latencies().get("relay").toMillis() >= 70, paris.relays().toString());

            // Idle: the next measurement (at most 60 s away) moves both, once.
            Duration idleFrom = mesh.now();
            mesh.runUntil(() -> "relay-eu-2".equals(paris.relayName()) && "relay-eu-2".equals(lyon.relayName()),
                    Duration.ofSeconds(75));
            System.out.printf("home relay: idle pair moved to the faster relay %d s after its traffic stopped%n",
                    mesh.now().minus(idleFrom).toSeconds());
            assertEquals("relay-eu-2", paris.relayName());
            assertEquals("relay-eu-2", lyon.relayName());
            mesh.advance(Duration.ofMinutes(3));
            assertEquals(1, paris.relayMoves(), "no flapping");
            assertEquals(1, lyon.relayMoves());
            MeshAssertions.assertFlows(mesh, paris, lyon);
        }
    }

    /** One direction of a pair after a relay was killed: when it stopped, and when it carried traffic again. */
    private static final class Flow {
        private final SimNode from;
        private final SimNode to;
        private int received;
        private boolean stopped;
        private Duration resumed;

        Flow(SimNode from, SimNode to) {
            this.from = from;
            this.to = to;
            this.received = to.dataFrom(from);
        }

        /** After each 100 ms: a step without traffic is a gap; the first with traffic after a gap, the resumption. */
        void step(Duration since) {
            int now = to.dataFrom(from);
            boolean arrived = now > received;
            received = now;
            if (!arrived) {
                stopped = true;
            } else if (stopped && resumed == null) {
                resumed = since;
            }
        }

        /** When every flow of a pair carried traffic again (zero for one that never stopped); null if one did not. */
        static Duration resumed(List<Flow> flows) {
            Duration latest = Duration.ZERO;
            for (Flow flow : flows) {
                Duration at = flow.stopped ? flow.resumed : Duration.ZERO;
                if (at == null) {
                    return null;
                }
                latest = at.compareTo(latest) > 0 ? at : latest;
            }
            return latest;
        }
    }

    @Test
    void killingAHomeRelayMovesItsClientsAndTheirRelayedPeersWithinTenSeconds() {
        try (SimMesh mesh = twoRegions(73)) {
            SimNode paris = node(mesh, "paris", NatPreset.SYMMETRIC_RANDOM, "eu");
            SimNode berlin = node(mesh, "berlin", NatPreset.UDP_BLOCKED, "eu");
            SimNode nyc = node(mesh, "nyc", NatPreset.SYMMETRIC_RANDOM, "us");
            SimNode desk = node(mesh, "desk", NatPreset.FULL_CONE, "eu");
            SimNode laptop = node(mesh, "laptop", NatPreset.FULL_CONE, "us");
            mesh.group(paris, berlin, nyc, desk, laptop);
            mesh.runUntil(() -> MeshAssertions.bothDirect(desk, laptop), Duration.ofSeconds(60));
            mesh.advance(Duration.ofSeconds(5));
            assertEquals("relay", paris.relayName());
            assertEquals("relay", berlin.relayName());
            assertEquals("relay-us", nyc.relayName());
            MeshAssertions.assertFlows(mesh, paris, nyc);
            MeshAssertions.assertFlows(mesh, paris, berlin);

            List<Flow> sameHomePair = List.of(new Flow(berlin, paris), new Flow(paris, berlin));
            List<Flow> crossRegionPair = List.of(new Flow(nyc, paris), new Flow(paris, nyc));
            int directBefore = laptop.dataFrom(desk);
            Duration killed = mesh.now();
            mesh.crashRelay("relay", Duration.ofMinutes(10));
            int directSent = 0;
            while (mesh.now().minus(killed).compareTo(Duration.ofSeconds(30)) < 0) {
                paris.sendData(nyc);
                nyc.sendData(paris);
                paris.sendData(berlin);
                berlin.sendData(paris);
                desk.sendData(laptop);
                directSent++;
                mesh.advance(Duration.ofMillis(100));
                Duration since = mesh.now().minus(killed);
                sameHomePair.forEach(flow -> flow.step(since));
                crossRegionPair.forEach(flow -> flow.step(since));
            }
            Duration sameHome = Flow.resumed(sameHomePair);
            Duration crossRegion = Flow.resumed(crossRegionPair);
            assertTrue(sameHome != null && sameHome.compareTo(Duration.ofSeconds(10)) <= 0,
                    "the pair that shared the killed home resumed after " + sameHome);
            assertTrue(crossRegion != null && crossRegion.compareTo(Duration.ofSeconds(10)) <= 0,
                    "the peer in the other region resumed after " + crossRegion);
            System.out.printf("home relay killed: its clients (a symmetric-NAT node on UDP, a UDP-blocked one on"
                    + " TCP) passed traffic again after %d ms; their peer homed in the other region after %d ms%n",
                    sameHome.toMillis(), crossRegion.toMillis());
            assertEquals("relay-eu-2", nyc.relayTo(paris), "the peer sends to the new home");
            assertEquals("relay-eu-2", paris.relayName(), "the next-best by latency: the other eu relay");
            assertEquals("relay-eu-2", berlin.relayName());
            assertEquals("relay-us", nyc.relayName(), "the peer's own home is not disturbed");
            assertEquals("relay-eu-2", nyc.peerInfo(paris).homeRelay());
            assertTrue(MeshAssertions.bothDirect(desk, laptop), "the direct pair was not disturbed");
            assertEquals(directBefore + directSent, laptop.dataFrom(desk), "and lost nothing");
            MeshAssertions.assertFlows(mesh, paris, nyc);
            MeshAssertions.assertFlows(mesh, berlin, nyc);
        }
    }
}
