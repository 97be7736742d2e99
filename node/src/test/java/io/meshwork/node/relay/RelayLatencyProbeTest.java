package io.meshwork.node.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.stun.StunDecoder;
import io.meshwork.protocol.stun.StunEncoder;
import io.meshwork.protocol.stun.StunMessage;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The relay latency probe against a fake socket and a hand-set clock: STUN answers give the round trip, a relay
 * that answers no STUN is timed by a TCP connection, one that answers neither has no latency, and answers from
 * elsewhere or of another shape are dropped and counted.
 */
class RelayLatencyProbeTest {

    private static final InetSocketAddress NEAR = new InetSocketAddress("192.0.2.1", 3340);
    private static final InetSocketAddress BLOCKED = new InetSocketAddress("192.0.2.2", 3340);
    private static final InetSocketAddress DEAD = new InetSocketAddress("192.0.2.3", 3340);

    @Test
    void stunAnswersGiveTheRoundTripAndTcpStandsInWhereUdpGetsNone() throws Exception {
        RecordingTransport socket = new RecordingTransport(new InetSocketAddress("127.0.0.1", 40001));
        AtomicLong clock = new AtomicLong(5_000_000_000L);
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            RelayLatencyProbe probe = new RelayLatencyProbe(socket, executor, clock::get, address -> {
                if (address.equals(BLOCKED)) {
                    clock.addAndGet(Duration.ofMillis(30).toNanos());
                    return CompletableFuture.completedFuture(true);
                }
                return CompletableFuture.completedFuture(false);
            });
            CompletableFuture<Map<String, Duration>> round = probe.measure(List.of(
                    new RelayInfo("near", "192.0.2.1:3340", "192.0.2.1:3340"),
                    new RelayInfo("blocked", "192.0.2.2:3340", "192.0.2.2:3340"),
                    new RelayInfo("dead", "192.0.2.3", "192.0.2.3:3340"),
                    new RelayInfo("malformed", "192.0.2.4:99999", null))).toCompletableFuture();
            assertTrue(probe.measure(List.of()) == round, "one round at a time");

            // Wait for the first requests, then answer the one to "near" 7 ms later; a forged answer from another
            // address and garbage are dropped.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (socket.sent.size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Map.Entry<byte[], InetSocketAddress> toNear = socket.sent.stream()
                    .filter(entry -> entry.getValue().equals(NEAR)).findFirst().orElseThrow();
            StunMessage request = StunDecoder.decode(toNear.getKey());
            byte[] answer = StunEncoder.encode(StunMessage.bindingSuccess(request, List.of()));
            socket.handler(DatagramKind.STUN).onDatagram(ByteBuffer.wrap(answer), DEAD);
            socket.handler(DatagramKind.STUN).onDatagram(ByteBuffer.wrap(new byte[] {1, 2, 3}), NEAR);
            clock.addAndGet(Duration.ofMillis(7).toNanos());
            socket.handler(DatagramKind.STUN).onDatagram(ByteBuffer.wrap(answer), NEAR);

            Map<String, Duration> latencies = round.get(5, TimeUnit.SECONDS);
            assertEquals(Map.of("near", Duration.ofMillis(7), "blocked", Duration.ofMillis(30)), latencies);
            assertEquals(2, probe.droppedDatagrams());
            assertTrue(socket.sent.stream().map(Map.Entry::getValue).toList().contains(
                    new InetSocketAddress("192.0.2.3", 3340)), "a missing port is the relay's default");
            probe.close();
            assertTrue(socket.handler(DatagramKind.STUN) == null);
        } finally {
            executor.shutdownNow();
        }
    }
}
