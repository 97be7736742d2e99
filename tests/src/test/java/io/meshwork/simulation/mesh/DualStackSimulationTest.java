package io.meshwork.simulation.mesh;

import static io.meshwork.simulation.mesh.MeshAssertions.bothDirect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.simulation.Host;
import io.meshwork.simulation.NatPreset;
import io.meshwork.simulation.Site;
import java.net.Inet6Address;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Two sites behind symmetric IPv4 NATs with routed IPv6 behind stateful firewalls (docs/architecture.md, "IPv6
 * paths"): the nodes learn their IPv6 endpoints by STUN over IPv6 and meet over IPv6, which IPv4 alone cannot give
 * them; without a global IPv6 address on one host they stay relayed and say why.
 */
class DualStackSimulationTest {

    @Test
    void twoDualStackSitesGoDirectOverIpv6() {
        try (SimMesh mesh = SimMesh.withSeed(22)) {
            SimNode left = mesh.node("left", NatPreset.DUAL_STACK.build(mesh.network(), "home"));
            SimNode right = mesh.node("right", NatPreset.DUAL_STACK.build(mesh.network(), "office"));
            assertTrue(left.host().ipv6Address().isPresent(), "a dual-stack host has a global IPv6 address");
            mesh.group(left, right);

            assertTrue(mesh.runUntil(() -> bothDirect(left, right), Duration.ofSeconds(60)),
                    "direct: " + left.statusTo(right) + " / " + right.statusTo(left));
            assertInstanceOf(Inet6Address.class, left.statusTo(right).endpoint().getAddress(),
                    "left's path is IPv6: " + left.statusTo(right));
            assertInstanceOf(Inet6Address.class, right.statusTo(left).endpoint().getAddress(),
                    "right's path is IPv6: " + right.statusTo(left));
            assertEquals(right.host().ipv6Address().orElseThrow(), left.statusTo(right).endpoint().getAddress());
            mesh.advance(Duration.ofSeconds(20));
            assertTrue(bothDirect(left, right), "still direct");
            assertTrue(mesh.ipv6Stun().answered() >= 2, "both learned their IPv6 endpoint by STUN over IPv6: "
                    + mesh.ipv6Stun().answered());
            String leftIpv6 = io.meshwork.node.netcheck.NetcheckReportFormat.address(
                    new java.net.InetSocketAddress(left.host().ipv6Address().orElseThrow(), SimNode.PORT));
            assertTrue(right.peerInfo(left).endpoints().contains(new Endpoint(leftIpv6, "stun")),
                    "left reported its IPv6 reflexive endpoint: " + right.peerInfo(left).endpoints());

            for (int i = 0; i < 3; i++) {
                left.sendData(right);
                right.sendData(left);
            }
            mesh.advance(Duration.ofSeconds(1));
            assertTrue(left.dataFrom(right) > 0 && right.dataFrom(left) > 0, "traffic flows both ways over IPv6");
        }
    }

    @Test
    void withoutGlobalIpv6OnOneHostThePairStaysRelayedAndSaysWhy() {
        try (SimMesh mesh = SimMesh.withSeed(22)) {
            SimNode left = mesh.node("left", NatPreset.DUAL_STACK.build(mesh.network(), "home"));
            Site office = NatPreset.DUAL_STACK.build(mesh.network(), "office");
            Host rightHost = office.addHost("right");
            mesh.network().removeIpv6(rightHost);
            SimNode right = mesh.node("right", rightHost);
            mesh.group(left, right);

            mesh.advance(Duration.ofSeconds(60));
            assertFalse(left.isDirectTo(right), "left relayed: " + left.statusTo(right));
            assertFalse(right.isDirectTo(left), "right relayed: " + right.statusTo(left));
            TunnelStatus rightStatus = right.statusTo(left);
            assertTrue(rightStatus.tried().contains("IPv6: no global IPv6 address here"),
                    "the side without IPv6 says so: " + rightStatus.tried());
            assertTrue(left.statusTo(right).tried().contains("IPv6: the peer reported no global IPv6 address"),
                    "the other side says the peer has none: " + left.statusTo(right).tried());

            left.sendData(right);
            right.sendData(left);
            mesh.advance(Duration.ofSeconds(1));
            assertTrue(left.dataFrom(right) > 0 && right.dataFrom(left) > 0, "traffic flows both ways on the relay");
        }
    }
}
