package io.meshwork.node.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.wireguard.Key;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The home relay and its connections ({@link HomeRelays}) with fake relay links, a hand-driven clock and
 * measurements the test answers: the first home is the fastest relay, a home moves only to a clearly faster relay
 * and never while it carries traffic, a failed home is left for the next-best by latency (by list order when nothing
 * was measured), traffic to a peer goes to the peer's home relay once connected there, and extra connections are
 * closed when idle and bounded in number.
 */
class HomeRelaysTest {

    private static final RelayInfo A = new RelayInfo("relay-a", "192.0.2.1:3340", "192.0.2.1:3340", null, "eu");
    private static final RelayInfo B = new RelayInfo("relay-b", "192.0.2.2:3340", "192.0.2.2:3340", null, "eu");
    private static final RelayInfo C = new RelayInfo("relay-c", "192.0.2.3:3340", "192.0.2.3:3340", null, "us");

    /** A relay connection whose state the test sets. */
    static final class FakeLink implements RelayLink {
        final String relay;
        final boolean tcpFirst;
        boolean connected;
        Duration silence = Duration.ZERO;
        boolean awaiting;
        boolean closed;
        Transport transport = Transport.UDP;
        final List<RelayKey> packetsTo = new ArrayList<>();

        FakeLink(String relay, boolean tcpFirst) {
            this.relay = relay;
            this.tcpFirst = tcpFirst;
        }

        @Override
        public RelayStatus status() {
            return new RelayStatus(connected ? RelayStatus.State.CONNECTED : RelayStatus.State.CONNECTING_UDP,
                    connected ? Optional.of(transport) : Optional.empty(), Optional.empty(), Optional.empty(), "");
        }

        @Override
        public Duration silence() {
            return silence;
        }

        @Override
        public boolean awaitingRelay() {
            return awaiting;
        }

        @Override
        public Optional<Transport> lastTransport() {
            return connected ? Optional.of(transport) : Optional.empty();
        }

        @Override
        public boolean sendPacket(RelayKey destination, ByteBuffer payload) {
            packetsTo.add(destination);
            return connected;
        }

        @Override
        public boolean sendDisco(RelayKey destination, ByteBuffer payload) {
            return connected;
        }

        @Override
        public void renewCredential(RelayCredential renewed) {
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** The relays, a clock, the measurements asked for and the homes reported. */
    private static final class Harness {
        long now = 1_000_000_000L;
        final Map<String, FakeLink> links = new LinkedHashMap<>();
        final List<FakeLink> opened = new ArrayList<>();
        final Map<String, RelayListener> listeners = new LinkedHashMap<>();
        final List<CompletableFuture<Map<String, Duration>>> measurements = new ArrayList<>();
        final List<String> reported = new ArrayList<>();
        final HomeRelays relays = new HomeRelays((relay, listener, tcpFirst) -> {
            FakeLink link = new FakeLink(relay.name(), tcpFirst);
            links.put(relay.name(), link);
            opened.add(link);
            listeners.put(relay.name(), listener);
            return Optional.of(link);
        }, listed -> {
            CompletableFuture<Map<String, Duration>> round = new CompletableFuture<>();
            measurements.add(round);
            return round;
        }, (source, payload) -> { }, reported::add, Runnable::run, () -> now);

        void advance(Duration by) {
            now += by.toNanos();
        }

        void answer(Map<String, Duration> latencies) {
            measurements.get(measurements.size() - 1).complete(latencies);
        }

        FakeLink link(String name) {
            return links.get(name);
        }

        void deliverFrom(String relay) {
            listeners.get(relay).onPacket(RelayKey.of(new byte[32]), ByteBuffer.allocate(4));
        }
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    private static Key key(int n) {
        byte[] bytes = new byte[32];
        bytes[0] = (byte) n;
        return Key.of(bytes);
    }

    @Test
    void theFirstHomeIsTheFirstListedUntilMeasuredThenTheFastest() {
        Harness h = new Harness();
        h.relays.relaysListed(List.of(A, B, C));
        assertEquals("relay-a", h.relays.homeName(), "before any measurement: the first listed relay");
        assertEquals(1, h.measurements.size(), "and every listed relay is measured at once");
        h.answer(Map.of("relay-a", ms(14), "relay-b", ms(9), "relay-c", ms(80)));
        assertEquals("relay-b", h.relays.homeName(), "the lowest latency, even when only 5 ms faster");
        assertEquals(List.of("relay-a", "relay-b"), h.reported, "each home is reported");
        assertFalse(h.link("relay-a").closed, "the first home stays open for peers that still send there");
        assertEquals(ms(9), h.relays.snapshot().homeLatency());
    }

    @Test
    void aHomeMovesOnlyToARelayTenMillisecondsAndAThirdFasterAndNeverWhileCarryingTraffic() {
        Harness h = new Harness();
        h.relays.relaysListed(List.of(A, B, C));
        h.answer(Map.of("relay-a", ms(40), "relay-b", ms(50), "relay-c", ms(90)));
        assertEquals("relay-a", h.relays.homeName());

        h.advance(HomeRelays.MEASURE_INTERVAL);
        h.relays.tick();
        assertEquals(2, h.measurements.size(), "measured again after 60 s");
        h.answer(Map.of("relay-a", ms(40), "relay-b", ms(31), "relay-c", ms(90)));
        assertEquals("relay-a", h.relays.homeName(), "9 ms faster is not enough");

        h.advance(HomeRelays.MEASURE_INTERVAL);
        h.relays.tick();
        h.answer(Map.of("relay-a", ms(40), "relay-b", ms(29), "relay-c", ms(90)));
        assertEquals("relay-a", h.relays.homeName(), "11 ms faster but not a third faster is not enough");

        h.deliverFrom("relay-a");
        h.advance(Duration.ofSeconds(7));
        h.relays.measureNow("a network change");
        h.answer(Map.of("relay-a", ms(40), "relay-b", ms(5), "relay-c", ms(90)));
        assertEquals("relay-a", h.relays.homeName(), "a home that delivered traffic 7 s ago is kept");

        h.advance(Duration.ofSeconds(2));
        h.relays.measureNow("a network change");
        h.answer(Map.of("relay-a", ms(40), "relay-b", ms(5), "relay-c", ms(90)));
        assertEquals("relay-b", h.relays.homeName(), "idle for 9 s: it moves to the clearly faster relay");
        assertEquals(List.of("relay-a", "relay-b"), h.reported);
    }

    @Test
    void aHomeThatStopsAnsweringIsLeftForTheNextBestByLatencyAtOnce() {
        Harness h = new Harness();
        h.relays.relaysListed(List.of(A, B, C));
        h.answer(Map.of("relay-a", ms(10), "relay-b", ms(60), "relay-c", ms(25)));
        FakeLink home = h.link("relay-a");
        home.connected = true;
        h.deliverFrom("relay-a");

        home.silence = Duration.ofSeconds(4);
        home.awaiting = true;
        h.relays.tick();
        assertEquals("relay-a", h.relays.homeName(), "4 s of silence is not yet a failure");
        home.silence = RelayFailover.SILENCE;
        h.relays.tick();
        assertEquals("relay-c", h.relays.homeName(), "the next-best by latency, not the next listed");
        assertTrue(home.closed, "the failed home is closed");
        assertEquals(List.of("relay-a", "relay-c"), h.reported, "and the move reported");
        assertFalse(h.relays.snapshot().latencies().containsKey("relay-a"),
                "its latency is forgotten until it answers a measurement again");

        // An idle home that answers its pings is never left.
        FakeLink next = h.link("relay-c");
        next.connected = true;
        next.silence = Duration.ofSeconds(30);
        next.awaiting = false;
        h.relays.tick();
        assertEquals("relay-c", h.relays.homeName());
    }

    @Test
    void withNothingMeasuredAFailedHomeIsLeftForTheNextListedRelay() {
        Harness h = new Harness();
        h.relays.relaysListed(List.of(A, B, C));
        h.answer(Map.of());
        assertEquals("relay-a", h.relays.homeName());
        h.link("relay-a").silence = RelayFailover.SILENCE;
        h.relays.tick();
        assertEquals("relay-b", h.relays.homeName());
    }

    @Test
    void aNodeWhoseUdpIsBlockedGoesStraightToTcpWithTheNextRelay() {
        Harness h = new Harness();
        h.relays.relaysListed(List.of(A, B));
        h.answer(Map.of("relay-a", ms(10), "relay-b", ms(20)));
        FakeLink home = h.link("relay-a");
        home.connected = true;
        home.transport = Transport.TCP;
        assertFalse(home.tcpFirst);
        home.silence = RelayFailover.SILENCE;
        home.awaiting = true;
        h.relays.tick();
        assertTrue(h.link("relay-b").tcpFirst);
    }

    @Test
    void controlWithdrawingTheHomeMovesItAndUnlistedExtrasAreClosed() {
        Harness h = new Harness();
        h.relays.relaysListed(List.of(A, B, C));
        h.answer(Map.of("relay-a", ms(10), "relay-b", ms(20), "relay-c", ms(30)));
        h.relays.peerHome(key(1), "relay-c");
        h.relays.clientFor(key(1));
        assertTrue(h.links.containsKey("relay-c"));
        h.relays.relaysListed(List.of(B));
        assertEquals("relay-b", h.relays.homeName());
        assertTrue(h.link("relay-a").closed);
        assertTrue(h.link("relay-c").closed);
    }

    @Test
    void trafficToAPeerGoesToThePeersHomeRelayOnceConnectedThere() {
        Harness h = new Harness();
        h.relays.relaysListed(List.of(A, B, C));
        h.answer(Map.of("relay-a", ms(10), "relay-b", ms(20), "relay-c", ms(30)));
        FakeLink home = h.link("relay-a");
        home.connected = true;
        Key peer = key(7);
        Key oldPeer = key(8);
        h.relays.peerHome(oldPeer, null);

        assertSame(home, h.relays.clientFor(oldPeer), "a peer that reports no home relay: the first listed relay");
        assertEquals(1, h.opened.size());

        h.relays.peerHome(peer, "relay-c");
        assertSame(home, h.relays.clientFor(peer), "until the peer's home relay answers: this node's own");
        FakeLink theirs = h.link("relay-c");
        assertTrue(theirs != null && !theirs.closed, "the peer's home relay is connected to on demand");
        assertEquals("relay-a", h.relays.relayFor(peer));
        theirs.connected = true;
        assertSame(theirs, h.relays.clientFor(peer));
        assertEquals("relay-c", h.relays.relayFor(peer));
        assertTrue(h.relays.sendPacket(peer, ByteBuffer.allocate(8)));
        assertEquals(List.of(RelayKey.of(peer.toBytes())), theirs.packetsTo);
        assertEquals(List.of("relay-a"), h.reported, "a peer's relay is not this node's home");

        h.relays.peerHome(peer, "relay-a");
        assertSame(home, h.relays.clientFor(peer), "the peer moved to this node's home: both meet there");
        h.relays.peerHome(peer, "relay-unknown");
        assertSame(home, h.relays.clientFor(peer), "a relay control does not list: this node's own");
        assertEquals(2, h.opened.size());
    }

    @Test
    void aPeerThatReportsNoHomeRelayIsReachedOnTheFirstListedRelayWhereOlderNodesConnect() {
        Harness h = new Harness();
        h.relays.relaysListed(List.of(A, B, C));
        h.answer(Map.of("relay-a", ms(40), "relay-b", ms(10), "relay-c", ms(30)));
        assertEquals("relay-b", h.relays.homeName());
        h.link("relay-b").connected = true;
        Key older = key(3);
        h.relays.peerHome(older, null);
        h.relays.clientFor(older);
        FakeLink first = h.link("relay-a");
        first.connected = true;
        assertSame(first, h.relays.clientFor(older));
        assertEquals("relay-a", h.relays.relayFor(older));
    }

    @Test
    void extraConnectionsCloseWhenIdleAndAreBounded() {
        Harness h = new Harness();
        List<RelayInfo> many = new ArrayList<>();
        for (int i = 0; i < HomeRelays.MAX_CONNECTIONS + 3; i++) {
            many.add(new RelayInfo("relay-" + i, "192.0.2." + (10 + i) + ":3340", null));
        }
        h.relays.relaysListed(many);
        h.answer(Map.of("relay-0", ms(5)));
        for (int i = 1; i < many.size(); i++) {
            h.relays.peerHome(key(i), "relay-" + i);
            h.relays.clientFor(key(i));
            h.advance(ms(10));
        }
        long open = h.links.values().stream().filter(link -> !link.closed).count();
        assertEquals(HomeRelays.MAX_CONNECTIONS, open, "at most " + HomeRelays.MAX_CONNECTIONS + " connections");
        assertFalse(h.link("relay-0").closed, "the home is never the one closed for room");
        assertTrue(h.link("relay-1").closed, "the least recently used one is");

        h.advance(HomeRelays.IDLE_AFTER);
        h.relays.tick();
        assertEquals(List.of("relay-0"), h.relays.snapshot().connected(), "idle extras are closed; the home stays");
        assertEquals("relay-0", h.relays.relayFor(key(99)), "a peer without a known home: through this node's");
    }

    @Test
    void wouldBeHomeIsTheFastestListedRelay() {
        assertEquals(Optional.of("relay-b"), HomeRelays.wouldBeHome(List.of(A, B, C),
                Map.of("relay-a", ms(12), "relay-b", ms(11))));
        assertEquals(Optional.empty(), HomeRelays.wouldBeHome(List.of(A), Map.of()));
    }
}
