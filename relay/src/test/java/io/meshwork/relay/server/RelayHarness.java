package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.fail;

import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayClient;
import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayListener;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.relay.auth.RevocationList;
import io.meshwork.relay.metrics.RelayMetrics;
import io.meshwork.relay.testing.TestDevices;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** A relay on loopback and node-side clients of it, closed together. */
final class RelayHarness implements AutoCloseable {

    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    static final RelayClientConfig FAST = RelayClientConfig.defaults()
            .withUdpAnswerTimeout(Duration.ofMillis(800))
            .withBackoff(Duration.ofMillis(100), Duration.ofMillis(800));

    final TestDevices devices = new TestDevices("control CA");
    final RevocationList revocations = new RevocationList();
    private final List<AutoCloseable> resources = new ArrayList<>();
    RelayServer relay;

    RelayServer start(Consumer<RelayConfig.Builder> tweak) throws IOException {
        RelayConfig.Builder builder = RelayConfig.builder(devices.anchors())
                .udp(new InetSocketAddress(LOOPBACK, 0))
                .tcp(new InetSocketAddress(LOOPBACK, 0))
                .revocations(revocations)
                .ioThreads(2);
        tweak.accept(builder);
        relay = RelayServer.start(builder.build(), new RelayMetrics());
        resources.add(relay);
        return relay;
    }

    RelayAddress both() {
        return RelayAddress.of(relay.udpAddress().orElseThrow(), relay.tcpAddress().orElseThrow());
    }

    RelayAddress udpOnly() {
        return RelayAddress.udpOnly(relay.udpAddress().orElseThrow());
    }

    RelayAddress tcpOnly() {
        return RelayAddress.tcpOnly(relay.tcpAddress().orElseThrow());
    }

    Peer peer(String deviceId, RelayAddress address) {
        return peer(devices.enroll(deviceId), address);
    }

    Peer peer(TestDevices.Device device, RelayAddress address) {
        return peer(device, address, FAST);
    }

    Peer peer(String deviceId, RelayAddress address, RelayClientConfig config) {
        return peer(devices.enroll(deviceId), address, config);
    }

    Peer peer(TestDevices.Device device, RelayAddress address, RelayClientConfig config) {
        NettyUdpTransport socket = NettyUdpTransport.bind(new InetSocketAddress(LOOPBACK, 0));
        resources.add(socket);
        Peer peer = new Peer(device, socket);
        peer.client = RelayClient.start(address, device.credential(), socket, peer, config);
        resources.add(peer.client);
        return peer;
    }

    <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    @Override
    public void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    /** A client and what it received. */
    static final class Peer implements RelayListener {
        final TestDevices.Device device;
        final NettyUdpTransport socket;
        final LinkedBlockingQueue<String> packets = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<String> discos = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<RelayKey> peersGone = new LinkedBlockingQueue<>();
        RelayClient client;

        Peer(TestDevices.Device device, NettyUdpTransport socket) {
            this.device = device;
            this.socket = socket;
        }

        RelayKey key() {
            return device.keys().publicKey();
        }

        @Override
        public void onPacket(RelayKey source, ByteBuffer payload) {
            packets.add(source + " " + StandardCharsets.UTF_8.decode(payload));
        }

        @Override
        public void onDisco(RelayKey source, ByteBuffer payload) {
            discos.add(source + " " + StandardCharsets.UTF_8.decode(payload));
        }

        @Override
        public void onPeerGone(RelayKey peer) {
            peersGone.add(peer);
        }

        RelayStatus awaitStatus(Predicate<RelayStatus> condition, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                RelayStatus status = client.status();
                if (condition.test(status)) {
                    return status;
                }
                Thread.sleep(20);
            }
            return fail("status never matched; last: " + client.status());
        }

        RelayStatus awaitConnected() throws InterruptedException {
            return awaitStatus(RelayStatus::connected, Duration.ofSeconds(10));
        }

        /**
         * Sends {@code count} numbered packets to {@code to}, each resent (at most five times) until it arrives,
         * and fails if one never does. Returns how many resends were needed.
         */
        int deliverTo(Peer to, int count, String tag) throws InterruptedException {
            int resends = 0;
            for (int i = 0; i < count; i++) {
                String body = tag + "-" + i;
                String expected = key() + " " + body;
                boolean arrived = false;
                for (int attempt = 0; attempt < 6 && !arrived; attempt++) {
                    if (attempt > 0) {
                        resends++;
                    }
                    client.sendPacket(to.key(), ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    while (!arrived && System.nanoTime() < deadline) {
                        String got = to.packets.poll(100, TimeUnit.MILLISECONDS);
                        arrived = expected.equals(got);
                    }
                }
                if (!arrived) {
                    fail(body + " from " + device.certificate().getSubjectX500Principal() + " never arrived");
                }
            }
            return resends;
        }
    }
}
