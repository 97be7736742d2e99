package io.meshwork.node.netcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.nat.ClassicNatType;
import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.nat.NatReport;
import io.meshwork.protocol.stun.StunServer;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The prober on a real Netty socket against meshwork's own STUN server on loopback (no NAT). */
class NatProberTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private ScheduledExecutorService scheduler;
    private NettyUdpTransport transport;
    private NatProber prober;

    @BeforeEach
    void open() throws Exception {
        scheduler = Executors.newSingleThreadScheduledExecutor();
        transport = NettyUdpTransport.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
        prober = new NatProber(transport, scheduler);
    }

    @AfterEach
    void close() {
        prober.close();
        transport.close();
        scheduler.shutdownNow();
    }

    private NetcheckResult probe(List<InetSocketAddress> servers) throws Exception {
        // The probe bounds itself; the extra margin only stops a broken build from hanging the suite.
        return prober.probe(servers, TIMEOUT).get(TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
    }

    @Test
    void rfc5780ServerOnLoopbackSeesNoNat() throws Exception {
        try (StunServer server = StunServer.startOnFreePort(InetAddress.getByName("127.0.0.1"),
                Optional.of(InetAddress.getByName("127.0.0.2")), "meshwork test")) {
            NetcheckResult result = probe(List.of(server.addresses().primary()));
            NatReport report = result.report();
            assertTrue(report.udpReachable());
            assertEquals(List.of(transport.localAddress()), report.publicEndpoints());
            assertTrue(report.noNat());
            assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, report.mapping());
            assertEquals(FilteringBehavior.ENDPOINT_INDEPENDENT, report.filtering());
            assertEquals(Optional.of(true), report.portPreserving());
            assertEquals(Optional.of(true), report.hairpin());
            assertEquals(ClassicNatType.OPEN, report.classic());
            ServerProbe probe = result.servers().get(0);
            assertEquals(Optional.of(transport.localAddress()), probe.mapped());
            assertEquals(server.addresses().changed(server.addresses().primary(), true, true), probe.otherAddress());
            // Tests I and II, and the two CHANGE-REQUEST tests: four answered transactions. Test III is
            // skipped because test II mapped like test I (RFC 5780 §4.3).
            assertEquals(4, server.answered());
        }
    }

    @Test
    void twoPlainServersGiveMappingButNoFiltering() throws Exception {
        try (StunServer first = StunServer.startOnFreePort(InetAddress.getByName("127.0.0.1"), Optional.empty(), "a");
             StunServer second = StunServer.startOnFreePort(InetAddress.getByName("127.0.0.2"), Optional.empty(), "b")) {
            NatReport report = probe(List.of(first.addresses().primary(), second.addresses().primary())).report();
            assertTrue(report.udpReachable());
            assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, report.mapping());
            assertEquals(FilteringBehavior.UNKNOWN, report.filtering());
            assertEquals(ClassicNatType.OPEN, report.classic());
            assertEquals(1, first.answered());
            assertEquals(1, second.answered());
        }
    }

    @Test
    void silentServersMeanUdpBlocked() throws Exception {
        InetSocketAddress silent;
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            silent = (InetSocketAddress) socket.getLocalSocketAddress();
        }
        NetcheckResult result = probe(List.of(silent));
        assertFalse(result.report().udpReachable());
        assertEquals(ClassicNatType.BLOCKED, result.report().classic());
        assertEquals(Optional.empty(), result.servers().get(0).mapped());
    }
}
