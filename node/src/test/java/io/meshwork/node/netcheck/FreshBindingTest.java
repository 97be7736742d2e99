package io.meshwork.node.netcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.stun.StunServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which port new flows get, asked on a real Netty socket of meshwork's own RFC 5780 STUN server on loopback (no NAT,
 * so the answer is the socket's own address): only after a netcheck named the server's alternate address, on a
 * destination the netcheck does not send to, and a moment-old answer is handed out again rather than asked anew.
 */
class FreshBindingTest {

    private ScheduledExecutorService scheduler;
    private NettyUdpTransport transport;
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    @BeforeEach
    void open() throws Exception {
        scheduler = Executors.newSingleThreadScheduledExecutor();
        transport = NettyUdpTransport.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
    }

    @AfterEach
    void close() {
        transport.close();
        scheduler.shutdownNow();
    }

    private Optional<InetSocketAddress> ask(FreshBinding fresh) throws Exception {
        return fresh.ask(transport, scheduler).get(10, TimeUnit.SECONDS);
    }

    @Test
    void asksAnAddressTheNetcheckDoesNotSendToAndReportsTheMappedEndpoint() throws Exception {
        try (StunServer server = StunServer.startOnFreePort(InetAddress.getByName("127.0.0.1"),
                Optional.of(InetAddress.getByName("127.0.0.2")), "meshwork test")) {
            FreshBinding fresh = new FreshBinding(clock::get);
            assertFalse(fresh.canAsk(), "nothing to ask before a netcheck named a server");
            assertEquals(Optional.empty(), ask(fresh));

            NetcheckResult result;
            try (NatProber prober = new NatProber(transport, scheduler)) {
                result = prober.probe(List.of(server.addresses().primary()), Duration.ofSeconds(2))
                        .get(12, TimeUnit.SECONDS);
            }
            fresh.netcheckDone(result);
            assertTrue(fresh.canAsk());
            long before = server.answered();
            assertEquals(Optional.of(transport.localAddress()), ask(fresh), "the endpoint the server saw");
            assertEquals(before + 1, server.answered(), "one request");

            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            assertEquals(Optional.of(transport.localAddress()), ask(fresh), "a moment-old answer again");
            assertEquals(before + 1, server.answered(), "without asking anew");

            clock.addAndGet(Duration.ofSeconds(5).toNanos());
            assertEquals(Optional.of(transport.localAddress()), ask(fresh), "asked again, elsewhere");
            assertEquals(before + 2, server.answered());
        }
    }

    @Test
    void aServerWithoutAlternateAddressGivesNothingToAsk() throws Exception {
        try (StunServer server = StunServer.startOnFreePort(InetAddress.getByName("127.0.0.1"), Optional.empty(),
                "plain")) {
            NetcheckResult result;
            try (NatProber prober = new NatProber(transport, scheduler)) {
                result = prober.probe(List.of(server.addresses().primary()), Duration.ofSeconds(2))
                        .get(12, TimeUnit.SECONDS);
            }
            FreshBinding fresh = new FreshBinding(clock::get);
            fresh.netcheckDone(result);
            assertFalse(fresh.canAsk(), "no alternate address, no destination the netcheck leaves alone");
        }
    }
}
