package io.meshwork.relay.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayClient;
import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.NodeRelayService;
import io.meshwork.relay.auth.DeviceCertificateIssuer;
import io.meshwork.relay.control.ControlException;
import io.meshwork.relay.control.ControlPlane;
import io.meshwork.relay.testing.TestDevices;
import java.io.IOException;
import java.math.BigInteger;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay a node runs for its organization, against a control that allows it or not: it relays only once
 * allowed, carries its organization's devices only, stops when the permission is withdrawn, and withdraws itself
 * from the relay list when closed.
 */
class NodeRelayTest {

    private static final String HOME = "o00000000000a";
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final RelayClientConfig FAST = RelayClientConfig.defaults()
            .withUdpAnswerTimeout(Duration.ofMillis(800))
            .withBackoff(Duration.ofMillis(100), Duration.ofMillis(800));
    private static final NodeRelay.Timing QUICK = new NodeRelay.Timing(Duration.ofMillis(200), Duration.ofMillis(200),
            Duration.ofMillis(100));

    private final TestDevices devices = new TestDevices("control CA");
    private final FakeControl control = new FakeControl();
    private final List<AutoCloseable> resources = new ArrayList<>();

    /** Control as a node's relay meets it: allowed or not, a 1 s heartbeat. */
    private final class FakeControl implements ControlPlane {
        final AtomicBoolean allowed = new AtomicBoolean();
        final AtomicInteger enrollments = new AtomicInteger();
        final AtomicInteger heartbeats = new AtomicInteger();
        final AtomicInteger withdrawals = new AtomicInteger();
        final List<Advertisement> advertised = new CopyOnWriteArrayList<>();

        private void check() throws ControlException {
            if (!allowed.get()) {
                throw new ControlException("HTTP 403 {\"error\":\"device may not relay\"}", 403);
            }
        }

        @Override
        public Enrollment register(Advertisement advertisement) throws ControlException {
            check();
            enrollments.incrementAndGet();
            advertised.add(advertisement);
            return new Enrollment("r000000000001", DeviceCertificateIssuer.toPem(devices.ca().caCertificate()), 1);
        }

        @Override
        public void reportHealth(String relayId, Health health) throws ControlException {
            check();
            heartbeats.incrementAndGet();
        }

        @Override
        public Set<BigInteger> revokedSerials(String relayId) throws ControlException {
            check();
            return Set.of();
        }

        @Override
        public void reportObservations(String relayId, List<Observation> observations) {}

        @Override
        public void withdraw() {
            withdrawals.incrementAndGet();
        }
    }

    private static int freePort() throws IOException {
        for (int attempt = 0; attempt < 20; attempt++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, LOOPBACK)) {
                int port = tcp.getLocalPort();
                try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(LOOPBACK, port))) {
                    return port;
                } catch (IOException e) {
                    // Taken on UDP: another one.
                }
            }
        }
        throw new IOException("no port free on both UDP and TCP");
    }

    private NodeRelay start(int port) {
        NodeRelay relay = new NodeRelay(new NodeRelayService.Settings(URI.create("http://control.invalid"), null,
                HOME + "-d000000000001", HOME, "mwd.x.y", "edge", port,
                () -> Optional.of(LOOPBACK)), control, QUICK);
        resources.add(relay);
        relay.start();
        return relay;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(20);
        }
        fail("never: " + what);
    }

    /** A device's relay client connecting to the node's relay over UDP, and the packets it receives. */
    private record Client(TestDevices.Device device, RelayClient client, LinkedBlockingQueue<String> packets) {
        RelayStatus awaitStatus(Predicate<RelayStatus> condition) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (System.nanoTime() < deadline) {
                if (condition.test(client.status())) {
                    return client.status();
                }
                Thread.sleep(20);
            }
            return fail("status never matched; last: " + client.status());
        }
    }

    private Client client(String organizationId, String deviceId, int port) {
        TestDevices.Device device = devices.enroll(organizationId, deviceId, Instant.now().minusSeconds(60),
                Instant.now().plusSeconds(3600));
        NettyUdpTransport socket = NettyUdpTransport.bind(new InetSocketAddress(LOOPBACK, 0));
        resources.add(socket);
        LinkedBlockingQueue<String> packets = new LinkedBlockingQueue<>();
        RelayClient client = RelayClient.start(RelayAddress.udpOnly(new InetSocketAddress(LOOPBACK, port)),
                device.credential(), socket, (source, payload) -> packets.add(StandardCharsets.UTF_8.decode(payload)
                        .toString()), FAST);
        resources.add(client);
        return new Client(device, client, packets);
    }

    @AfterEach
    void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    @Test
    void withoutPermissionItDoesNotRelayAndSaysWhy() throws Exception {
        int port = freePort();
        NodeRelay relay = start(port);
        await(() -> relay.status().state().equals("not allowed"), "not allowed");
        assertTrue(relay.status().detail().contains("relayAllowed"), relay.status().detail());
        assertTrue(relay.status().detail().contains(HOME + "-d000000000001"), relay.status().detail());
        // Nothing listens: the port is still free.
        try (ServerSocket tcp = new ServerSocket(port, 1, LOOPBACK)) {
            assertEquals(port, tcp.getLocalPort());
        }
        assertEquals(0, control.enrollments.get());
    }

    @Test
    void onceAllowedItCarriesItsOrganizationOnlyAndStopsWhenThePermissionGoes() throws Exception {
        int port = freePort();
        NodeRelay relay = start(port);
        await(() -> relay.status().state().equals("not allowed"), "refused first");
        control.allowed.set(true);
        await(() -> relay.status().state().equals("relaying"), "relaying once allowed");
        assertEquals("127.0.0.1:" + port, relay.status().address());
        assertEquals("127.0.0.1:" + port, control.advertised.get(0).udp(), "the public address is advertised");

        Client alpha1 = client(HOME, "alpha-1", port);
        Client alpha2 = client(HOME, "alpha-2", port);
        Client beta = client("o00000000000b", "beta-1", port);
        alpha1.awaitStatus(RelayStatus::connected);
        alpha2.awaitStatus(RelayStatus::connected);
        RelayStatus refused = beta.awaitStatus(status -> status.lastRefusal().isPresent());
        assertEquals(AuthStatus.OTHER_ORGANIZATION, refused.lastRefusal().get(), refused.toString());
        await(() -> relay.status().udpClients() == 2, "two clients counted in status: " + relay.status());

        // The organization's pair is relayed.
        String got = null;
        for (int attempt = 0; attempt < 10 && got == null; attempt++) {
            alpha1.client().sendPacket(alpha2.device().keys().publicKey(),
                    ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)));
            got = alpha2.packets().poll(500, TimeUnit.MILLISECONDS);
        }
        assertEquals("hello", got);
        await(() -> control.heartbeats.get() >= 1, "a heartbeat");

        // The permission withdrawn: the next heartbeat is refused and the relay stops listening.
        control.allowed.set(false);
        await(() -> relay.status().state().equals("not allowed"), "stopped when refused");
        try (ServerSocket tcp = new ServerSocket(port, 1, LOOPBACK)) {
            assertEquals(port, tcp.getLocalPort(), "the relay's port is free again");
        }

        relay.close();
        assertEquals("stopped", relay.status().state());
    }

    @Test
    void closingWithdrawsItFromTheRelayList() throws Exception {
        control.allowed.set(true);
        NodeRelay relay = start(freePort());
        await(() -> relay.status().state().equals("relaying"), "relaying");
        relay.close();
        assertEquals(1, control.withdrawals.get());
    }
}
