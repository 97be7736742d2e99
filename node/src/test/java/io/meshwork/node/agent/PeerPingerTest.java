package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.local.PingReply;
import io.meshwork.node.tunnel.PeerTunnel;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

class PeerPingerTest {

    private final Key bravoKey = Key.generatePrivate().publicKey();
    private final List<PeerInfo> peers = List.of(
            new PeerInfo("d1", "alpha", Key.generatePrivate().publicKey().toBase64(), List.of("100.64.0.2"),
                    List.of(), Map.of(), 0),
            new PeerInfo("d2", "bravo", bravoKey.toBase64(), List.of("100.64.0.3", "fd00::3"), List.of(), Map.of(),
                    0));
    /** The answers the tunnels give, in order; who was asked, with which timeout. */
    private final Deque<CompletionStage<PeerTunnel.PingResult>> answers = new ArrayDeque<>();
    private final List<Key> asked = new ArrayList<>();
    private final List<Duration> timeouts = new ArrayList<>();
    private final PeerPinger pinger = new PeerPinger(() -> peers, (key, timeout) -> {
        asked.add(key);
        timeouts.add(timeout);
        return answers.removeFirst();
    }, key -> "relay-eu");

    private static CompletionStage<PeerTunnel.PingResult> answer(InetSocketAddress endpoint, long millis) {
        return CompletableFuture.completedFuture(new PeerTunnel.PingResult(endpoint, Duration.ofMillis(millis)));
    }

    @Test
    void repliesSayWhetherTheyCameDirectlyOrThroughTheRelayOrNotAtAll() {
        answers.add(answer(new InetSocketAddress("192.0.2.7", 41641), 12));
        answers.add(answer(null, 80));
        answers.add(CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("no answer")));
        List<PingReply> replies = new ArrayList<>();
        long started = System.nanoTime();

        pinger.ping("bravo", 3, replies::add);

        assertEquals(List.of(new PingReply(1, "bravo", "direct", "192.0.2.7:41641", 12.0),
                new PingReply(2, "bravo", "relay", "relay-eu", 80.0),
                new PingReply(3, "bravo", "timeout", null, null)), replies);
        assertEquals(List.of(bravoKey, bravoKey, bravoKey), asked);
        assertEquals(PeerPinger.TIMEOUT, timeouts.get(0));
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertTrue(took.compareTo(Duration.ofMillis(1900)) >= 0, "one ping a second, took " + took);
    }

    @Test
    void thePeerIsFoundByHostnameDeviceIdOrOverlayAddress() {
        for (String target : List.of("bravo", "d2", "100.64.0.3", "fd00::3")) {
            answers.add(answer(null, 5));
            List<PingReply> replies = new ArrayList<>();
            pinger.ping(target, 1, replies::add);
            assertEquals("bravo", replies.get(0).peer(), target);
        }
        assertEquals(List.of(bravoKey, bravoKey, bravoKey, bravoKey), asked);
    }

    @Test
    void anUnknownPeerIsRefusedBeforeAnyPing() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> pinger.ping("charlie", 3, reply -> {}));
        assertEquals("no peer \"charlie\"", refused.getMessage());
        assertEquals(List.of(), asked);
    }
}
