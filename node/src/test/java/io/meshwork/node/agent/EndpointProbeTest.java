package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.stun.StunServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Endpoint probes from a real WireGuard socket on loopback, against meshwork's own STUN server. */
class EndpointProbeTest {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final WireGuardDevice device = IdleDevice.create(
            port -> NettyUdpTransport.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
    private final List<Map<String, Object>> natReports = new ArrayList<>();

    @AfterEach
    void close() {
        device.close();
        scheduler.shutdownNow();
    }

    private EndpointProbe probe(List<String> stunServers) {
        return new EndpointProbe(device, () -> stunServers, scheduler, natReports::add, Optional::empty);
    }

    @Test
    void stunSeesTheWireGuardSocketAndMalformedServersAreSkipped() throws Exception {
        device.setListenPort(0);
        try (StunServer server = StunServer.startOnFreePort(InetAddress.getLoopbackAddress(), Optional.empty(),
                "meshwork test")) {
            InetSocketAddress stun = server.addresses().primary();
            EndpointProbe probe = probe(List.of("stun.example:port", "127.0.0.1:" + stun.getPort()));

            EndpointDiscovery.Discovered discovered = probe.run();

            int port = device.transport().localAddress().getPort();
            // STUN saw the socket; a loopback mapping is in the NAT report, not among the endpoints control takes.
            assertEquals(List.of("127.0.0.1:" + port), discovered.nat().get("publicEndpoints"),
                    discovered.nat().toString());
            assertFalse(discovered.endpoints().contains(new Endpoint("127.0.0.1:" + port, "stun")),
                    discovered.endpoints().toString());
            assertEquals(Set.of("127.0.0.1"), discovered.publicIps());
            assertEquals(Set.of("127.0.0.1"), probe.publicIps(), "kept for the endpoint choice without a relay");
            assertEquals(List.of(discovered.nat()), natReports, "the NAT report goes to status");
            assertEquals(true, discovered.nat().get("udp"), discovered.nat().toString());
        }
    }

    @Test
    void theFirstStunAnswerIsHandedOverBeforeTheNatTestsRun() throws Exception {
        device.setListenPort(0);
        try (StunServer server = StunServer.startOnFreePort(InetAddress.getLoopbackAddress(), Optional.empty(),
                "meshwork test")) {
            EndpointProbe probe = probe(List.of("127.0.0.1:" + server.addresses().primary().getPort()));
            List<EndpointDiscovery.Discovered> early = new ArrayList<>();
            List<Integer> natReportsThen = new ArrayList<>();

            EndpointDiscovery.Discovered discovered = probe.run(preliminary -> {
                early.add(preliminary);
                natReportsThen.add(natReports.size());
            });

            assertEquals(1, early.size(), "one preliminary discovery");
            assertEquals(List.of(0), natReportsThen, "handed over before the NAT tests finished");
            assertEquals(Map.of(), early.get(0).nat(), "without a NAT report");
            // STUN answered from loopback: that mapping is not an endpoint control takes, the local ones are.
            assertEquals(EndpointReports.local(LocalAddresses.ipv4(), device.listenPort()), early.get(0).endpoints());
            assertEquals(true, discovered.nat().get("udp"), "then the whole discovery: " + discovered.nat());
        }
    }

    @Test
    void withoutUsableStunServersOnlyTheLocalEndpointsAreReported() {
        EndpointProbe probe = probe(List.of("[::1", "192.0.2.1:70000"));

        EndpointDiscovery.Discovered discovered = probe.run();

        assertEquals(EndpointReports.withoutStun(LocalAddresses.ipv4(), device.listenPort()), discovered);
        assertEquals(Set.of(), probe.publicIps());
        assertEquals(List.of(), natReports);
    }

    @Test
    void eachProbeUsesTheStunServersControlListsNow() throws Exception {
        device.setListenPort(0);
        try (StunServer server = StunServer.startOnFreePort(InetAddress.getLoopbackAddress(), Optional.empty(),
                "meshwork test")) {
            RelayList live = new RelayList(List.of(), List.of("192.0.2.1:70000"));
            EndpointProbe probe = new EndpointProbe(device, live::stunServers, scheduler, natReports::add,
                    Optional::empty);

            assertEquals(EndpointReports.withoutStun(LocalAddresses.ipv4(), device.listenPort()), probe.run(),
                    "the registration's servers until control lists others: none usable here");

            int port = device.transport().localAddress().getPort();
            assertTrue(live.update(List.of(), List.of("127.0.0.1:" + server.addresses().primary().getPort())));
            EndpointDiscovery.Discovered discovered = probe.run();
            // The server answered (its mapping is in the NAT report); a loopback mapping is no endpoint to report.
            assertEquals(List.of("127.0.0.1:" + port), discovered.nat().get("publicEndpoints"),
                    discovered.nat().toString());
            assertFalse(discovered.endpoints().contains(new Endpoint("127.0.0.1:" + port, "stun")),
                    discovered.endpoints().toString());
        }
    }
}
