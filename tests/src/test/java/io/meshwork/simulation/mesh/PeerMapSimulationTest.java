package io.meshwork.simulation.mesh;

import static io.meshwork.simulation.mesh.MeshAssertions.assertFlows;
import static io.meshwork.simulation.mesh.MeshAssertions.bothDirect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.simulation.NatPreset;
import io.meshwork.simulation.Site;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The peer map on its way from control to the tunnels: what a node reports reaches its peers as peer-map events
 * with growing revisions, read by the agent's own code, and a device removed at control loses its tunnels.
 */
class PeerMapSimulationTest {

    /** Control's coalescing window and the stream's delivery, with room for the tunnel to stop. */
    private static final Duration PROPAGATION = SimControl.COALESCE_WINDOW.plus(SimControl.DELIVERY_DELAY)
            .plusMillis(50);

    @Test
    void aDeviceRemovedFromTheOrganizationLosesItsTunnelsOnBothSides() {
        try (SimMesh mesh = SimMesh.withSeed(11)) {
            SimNode laptop = mesh.node("laptop", NatPreset.FULL_CONE.build(mesh.network(), "home"));
            SimNode server = mesh.node("server", NatPreset.RESTRICTED_CONE.build(mesh.network(), "office"));
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            String organization = mesh.group(laptop, server, phone);
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server) && laptop.statusTo(phone) != null
                    && server.statusTo(phone) != null && phone.statusTo(laptop) != null, Duration.ofSeconds(30)),
                    "everyone has a tunnel to everyone");
            long revisionBefore = laptop.peerMapRevision();

            mesh.removeFromOrganization(phone);
            assertTrue(mesh.runUntil(() -> laptop.statusTo(phone) == null && server.statusTo(phone) == null
                    && phone.statusTo(laptop) == null && phone.statusTo(server) == null, PROPAGATION),
                    "the removal reached every stream within control's window: " + laptop.statusTo(phone));

            for (SimNode peer : List.of(laptop, server)) {
                PeerMapEvent last = peer.peerMapEvents().get(peer.peerMapEvents().size() - 1);
                assertEquals(PeerMapEvent.REMOVE, last.type(), peer + " got " + last);
                assertEquals(List.of(phone.deviceId()), last.removed());
                assertTrue(last.revision() > revisionBefore, last.revision() + " after " + revisionBefore);
                assertEquals(mesh.control().revision(organization), last.revision());
                assertNull(peer.peerInfo(phone), peer + " forgot the device");
            }
            assertTrue(phone.removedByControl(), "control ended the removed device's stream");
            assertNull(mesh.control().device(phone.deviceId()));

            // The others carry on, and a report from the removed device changes nothing.
            mesh.advance(Duration.ofSeconds(20));
            assertEquals(mesh.control().revision(organization), laptop.peerMapRevision());
            assertNull(laptop.statusTo(phone));
            assertTrue(bothDirect(laptop, server), "the remaining pair stayed direct");
            assertFlows(mesh, laptop, server);
        }
    }

    @Test
    void aRoamingDevicesNewEndpointsReachItsPeerInAnUpsertWithAHigherRevision() {
        String first = roam(12);
        System.out.print(first);
        assertEquals(first, roam(12), "the same seed gives the same peer-map events");
    }

    /** Roams a laptop from home to a cafe; returns the server's peer-map events, one line each. */
    private static String roam(long seed) {
        try (SimMesh mesh = SimMesh.withSeed(seed)) {
            Site home = NatPreset.PORT_RESTRICTED_CONE.build(mesh.network(), "home");
            Site cafe = NatPreset.RESTRICTED_CONE.build(mesh.network(), "cafe");
            SimNode laptop = mesh.node("laptop", home);
            SimNode server = mesh.node("server", NatPreset.FULL_CONE.build(mesh.network(), "office"));
            mesh.group(laptop, server);
            InetAddress homeIp = home.requireNat().publicIp();
            InetAddress cafeIp = cafe.requireNat().publicIp();
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server) && stunIps(server.peerInfo(laptop))
                    .contains(homeIp), Duration.ofSeconds(30)), "direct at home, the home NAT's address reported");
            assertEquals(PeerMapEvent.SNAPSHOT, server.peerMapEvents().get(0).type());
            long revisionAtHome = server.peerMapRevision();

            laptop.host().moveTo(cafe);
            assertTrue(mesh.runUntil(() -> bothDirect(laptop, server)
                    && cafeIp.equals(server.statusTo(laptop).endpoint().getAddress()), Duration.ofSeconds(90)),
                    "direct again from the cafe: " + server.statusTo(laptop));

            PeerInfo atCafe = server.peerInfo(laptop);
            assertEquals(List.of(cafeIp), stunIps(atCafe), "the server knows the cafe's address only: " + atCafe);
            assertEquals(mesh.control().device(laptop.deviceId()), atCafe, "the server has control's record");
            PeerMapEvent learned = server.peerMapEvents().stream()
                    .filter(event -> event.peers().stream().anyMatch(peer -> stunIps(peer).contains(cafeIp)))
                    .findFirst().orElseThrow();
            assertEquals(PeerMapEvent.UPSERT, learned.type());
            assertTrue(learned.revision() > revisionAtHome, learned.revision() + " after " + revisionAtHome);
            assertEquals(List.of(laptop.deviceId()), learned.peers().stream().map(PeerInfo::id).toList());

            StringBuilder events = new StringBuilder("peer-map events at the server (seed " + seed + "):\n");
            long previous = -1;
            for (PeerMapEvent event : server.peerMapEvents()) {
                assertTrue(event.revision() > previous, "revisions grow: " + server.peerMapEvents());
                previous = event.revision();
                List<String> endpoints = new ArrayList<>();
                event.peers().forEach(peer -> peer.endpoints().forEach(e -> endpoints.add(e.source() + " "
                        + e.address())));
                events.append("  ").append(event.type()).append(" r").append(event.revision()).append(' ')
                        .append(endpoints).append('\n');
            }
            return events.toString();
        }
    }

    /** The public addresses a peer-map entry reports from STUN. */
    private static List<InetAddress> stunIps(PeerInfo info) {
        if (info == null) {
            return List.of();
        }
        return info.endpoints().stream().filter(endpoint -> endpoint.source().equals("stun"))
                .map(endpoint -> HostPort.parseEndpoint(endpoint.address()).getAddress()).distinct().toList();
    }
}
