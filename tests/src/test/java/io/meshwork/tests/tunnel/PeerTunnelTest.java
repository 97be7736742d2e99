package io.meshwork.tests.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.tunnel.PeerTunnel;
import io.meshwork.node.tunnel.TunnelPeer;
import io.meshwork.node.tunnel.TunnelPort;
import io.meshwork.node.tunnel.TunnelSettings;
import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.path.NatPolicy;
import io.meshwork.protocol.probe.ProbeMessage;
import io.meshwork.protocol.probe.ProbeMessage.CallMeMaybe;
import io.meshwork.protocol.probe.ProbeMessage.Ping;
import io.meshwork.protocol.probe.ProbeMessage.Pong;
import io.meshwork.simulation.DiscreteEventScheduler;
import io.meshwork.simulation.PekkoSimScheduler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The tunnel state machine on virtual time, with a recording port in place of sockets and relay. The actor runs
 * on the calling-thread dispatcher and its timers on the virtual clock, so every step is deterministic.
 */
class PeerTunnelTest {

    private static final DiscreteEventScheduler time = new DiscreteEventScheduler(1);
    private static final ActorTestKit testKit = ActorTestKit.create(
            com.typesafe.config.ConfigFactory.parseString(PekkoSimScheduler.config(time)));

    private static final InetSocketAddress PEER_LAN = new InetSocketAddress("192.168.1.20", 51820);
    private static final InetSocketAddress PEER_PUBLIC = new InetSocketAddress("198.51.100.12", 40112);
    private static final InetSocketAddress SELF_PUBLIC = new InetSocketAddress("203.0.113.5", 51820);
    /** The ports new flows of each side get after a conntrack collision displaced one (Linux's by-source table). */
    private static final InetSocketAddress SELF_DISPLACED = new InetSocketAddress("203.0.113.5", 38280);
    private static final InetSocketAddress PEER_DISPLACED = new InetSocketAddress("198.51.100.12", 47111);
    private static final TunnelPeer EASY_PEER = new TunnelPeer(List.of(PEER_LAN), List.of(PEER_PUBLIC), 51820,
            new NatPolicy.Side(true, MappingBehavior.ENDPOINT_INDEPENDENT));
    private static final TunnelPeer SELF = new TunnelPeer(List.of(new InetSocketAddress("10.0.0.2", 51820)),
            List.of(SELF_PUBLIC), 51820, new NatPolicy.Side(true, MappingBehavior.ENDPOINT_INDEPENDENT));

    private static final java.util.concurrent.atomic.AtomicInteger spawned = new java.util.concurrent.atomic.AtomicInteger();
    private final long start = time.nowNanos();
    private final RecordingPort port = new RecordingPort();
    private final List<TunnelStatus> statuses = new CopyOnWriteArrayList<>();
    private final TunnelSettings settings = TunnelSettings.defaults();

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void reset() {
        port.events.clear();
    }

    @Test
    void symmetricNatsOnBothSidesGoDirectOverIpv6AndAFailedAttemptSaysWhatIpv6Did() {
        InetSocketAddress peerIpv6 = new InetSocketAddress("2001:db8:2::10", 51820);
        NatPolicy.Side symmetric = new NatPolicy.Side(true, MappingBehavior.ADDRESS_AND_PORT_DEPENDENT);
        TunnelPeer peer = new TunnelPeer(List.of(PEER_LAN), List.of(PEER_PUBLIC, peerIpv6), 51820, symmetric);
        TunnelPeer self = new TunnelPeer(List.of(new InetSocketAddress("10.0.0.2", 51820)),
                List.of(SELF_PUBLIC, new InetSocketAddress("2001:db8:1::10", 51820)), 51820, symmetric);
        ActorRef<PeerTunnel.Command> tunnel = spawn(peer, self, settings);
        await(() -> port.pingTo(peerIpv6) != null, "the peer's IPv6 endpoint is probed like its IPv4 ones");
        assertFalse(port.has(e -> e.kind.equals("direct") && e.endpoint != null
                        && e.endpoint.getAddress() instanceof java.net.Inet6Address && !e.endpoint.equals(peerIpv6)),
                "no port prediction over IPv6, which has no NAT: " + port.events);
        advance(settings.probeWindow().plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.RELAYED, "relayed");
        assertTrue(latest().tried().contains("IPv6 probes to [2001:db8:2::10]:51820 unanswered for "
                + settings.probeWindow().toSeconds() + " s (a firewall on either side drops them)"),
                latest().tried().toString());

        advance(settings.retryAfter(1).plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.PROBING, "the next attempt");
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(peerIpv6).txid(), null), peerIpv6));
        await(() -> latest().state() == TunnelStatus.State.DIRECT, "direct");
        assertEquals(peerIpv6, latest().endpoint());
        assertTrue(latest().reason().contains("IPv6 endpoint [2001:db8:2::10]:51820"), latest().reason());
    }

    @Test
    void aNodeWithoutGlobalIpv6SaysSoInWhatWasTried() {
        spawn(EASY_PEER);
        await(() -> port.pingTo(PEER_PUBLIC) != null, "a first attempt");
        advance(settings.probeWindow().plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.RELAYED, "relayed");
        assertTrue(latest().tried().contains("IPv6: no global IPv6 address here"), latest().tried().toString());
    }

    @Test
    void afterASuspectedCollisionTheLowerKeyWaitsOutTheStaleEntriesThenOpensFirstWithLimitedTtl() {
        port.opensFirst = true;
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> port.pingTo(PEER_PUBLIC) != null, "an ordinary first attempt");
        advance(settings.probeWindow().plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.RELAYED, "relayed");
        TunnelStatus relayed = latest();
        assertTrue(relayed.reason().contains("conntrack collision suspected"), relayed.reason());
        assertTrue(relayed.tried().stream().anyMatch(line -> line.startsWith("direct probes to 198.51.100.12:40112")
                && line.contains("conntrack collision")), relayed.tried().toString());
        assertTrue(relayed.reason().contains("next attempt in " + settings.collisionQuiet().toSeconds() + " s"),
                relayed.reason());

        port.events.clear();
        // The peer's ordinary attempt in the meantime is not answered with probes: it restarts the wait instead.
        tunnel.tell(new PeerTunnel.ProbeReceived(new CallMeMaybe(List.of(PEER_PUBLIC), false), null));
        advance(settings.collisionQuiet());
        assertFalse(port.has(e -> e.kind.equals("direct") || e.kind.startsWith("limited")),
                "nothing direct during the quiet period: " + port.events);
        advance(settings.probeWindow().plusSeconds(1));
        await(() -> port.has(e -> e.kind.equals("limited:2") && PEER_PUBLIC.equals(e.endpoint)),
                "TTL-limited pings open the mapping");
        assertTrue(port.has(e -> e.kind.equals("limited:1") && PEER_PUBLIC.equals(e.endpoint)), "after a sweep");
        assertTrue(port.has(e -> e.message instanceof CallMeMaybe call && call.openedFirst()), "then tells the peer");
        assertNull(port.pingTo(PEER_PUBLIC), "no full-TTL ping before the peer's probes arrive");
        assertTrue(latest().reason().contains("opened its mapping first"), latest().reason());

        tunnel.tell(new PeerTunnel.ProbeReceived(new Ping("abcdefghijk3".getBytes()), PEER_PUBLIC));
        await(() -> port.pingTo(PEER_PUBLIC) != null, "the peer's probe arrived: full TTL from now on");
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(PEER_PUBLIC).txid(), null), PEER_PUBLIC));
        await(() -> latest().state() == TunnelStatus.State.DIRECT, "direct");
        assertTrue(latest().tried().isEmpty(), "a direct tunnel lists nothing tried");
        port.opensFirst = false;
    }

    @Test
    void theSideOpeningFirstNamesThePortItsNewFlowsGetAndProbesThePortThePeerNamesBack() {
        port.opensFirst = true;
        port.fresh = SELF_DISPLACED;
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> port.pingTo(PEER_PUBLIC) != null, "an ordinary first attempt");
        advance(settings.probeWindow().plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.RELAYED, "relayed");
        port.events.clear();
        advance(settings.collisionQuiet().plusMillis(100));
        await(() -> port.has(e -> e.message instanceof CallMeMaybe call && call.openedFirst()), "opened");
        RecordingPort.Event learn = port.first(e -> e.kind.equals("learn"));
        RecordingPort.Event opening = port.first(e -> e.kind.equals("limited:2") && PEER_PUBLIC.equals(e.endpoint));
        assertNotNull(learn, "asked which port new flows get");
        assertNotNull(opening, "TTL-limited pings open the mapping");
        assertTrue(port.events.indexOf(learn) < port.events.indexOf(opening), "learned before opening: " + port.events);
        CallMeMaybe call = (CallMeMaybe) port.first(e -> e.message instanceof CallMeMaybe c && c.openedFirst()).message;
        assertEquals(SELF_DISPLACED, call.endpoints().get(0), "the call names the port new flows leave from first");
        assertNull(port.pingTo(PEER_PUBLIC), "no full-TTL ping yet");

        // The peer opens towards it in turn and names the port its own new flows get: probe that one, full TTL.
        tunnel.tell(new PeerTunnel.ProbeReceived(new CallMeMaybe(List.of(PEER_DISPLACED, PEER_PUBLIC), false, true),
                null));
        await(() -> port.pingTo(PEER_DISPLACED) != null, "full-TTL probe to the peer's displaced port");
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(PEER_DISPLACED).txid(), null), PEER_DISPLACED));
        await(() -> latest().state() == TunnelStatus.State.DIRECT, "direct");
        assertEquals(PEER_DISPLACED, latest().endpoint());
        port.opensFirst = false;
        port.fresh = null;
    }

    @Test
    void afterASuspectedCollisionTheHigherKeyOpensInTurnWhenThePeerSaysItOpenedFirst() {
        port.fresh = SELF_DISPLACED;
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> port.pingTo(PEER_PUBLIC) != null, "an ordinary first attempt");
        advance(settings.probeWindow().plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.RELAYED, "relayed");
        assertTrue(latest().reason().contains("the peer opens its mapping first"), latest().reason());
        port.events.clear();
        tunnel.tell(new PeerTunnel.ProbeReceived(new CallMeMaybe(List.of(PEER_PUBLIC), false), null));
        advance(Duration.ofSeconds(1));
        assertNull(port.pingTo(PEER_PUBLIC), "an ordinary call during the quiet period is not followed");
        tunnel.tell(new PeerTunnel.ProbeReceived(new CallMeMaybe(List.of(PEER_DISPLACED), false, true), null));
        await(() -> port.has(e -> e.message instanceof CallMeMaybe call && call.openedFirst()),
                "the peer opened first: this node learns its port, opens in turn and says so");
        assertEquals(TunnelStatus.State.PROBING, latest().state());
        assertTrue(latest().reason().contains("the peer opened its mapping first, this node opened its own"),
                latest().reason());
        CallMeMaybe call = (CallMeMaybe) port.first(e -> e.message instanceof CallMeMaybe c && c.openedFirst()).message;
        assertEquals(SELF_DISPLACED, call.endpoints().get(0), "naming the port its new flows get");
        RecordingPort.Event opening = port.first(e -> e.kind.equals("limited:2") && PEER_DISPLACED.equals(e.endpoint));
        assertNotNull(opening, "TTL-limited pings to the port the peer named");
        assertNull(port.pingTo(PEER_DISPLACED), "nothing at full TTL before the peer's probe arrives");
        // First a TTL-1 ping to where the earlier probes went: it clears the displaced flow's expired entry at this
        // node's own gateway.
        RecordingPort.Event sweep = port.first(e -> e.kind.equals("limited:1") && PEER_PUBLIC.equals(e.endpoint));
        assertNotNull(sweep, "swept first");
        assertTrue(port.events.indexOf(sweep) < port.events.indexOf(opening), "before opening");

        tunnel.tell(new PeerTunnel.ProbeReceived(new Ping("abcdefghijk4".getBytes()), PEER_DISPLACED));
        await(() -> port.pingTo(PEER_DISPLACED) != null, "the peer's probe arrived: full TTL back");
        port.fresh = null;
    }

    @Test
    void startsRelayedThenProbesEveryCandidateAndMovesDirectOnTheFirstAnswer() {
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> port.has(e -> e.kind.equals("useRelay")), "relay first");
        await(() -> port.has(e -> e.message instanceof CallMeMaybe), "call-me-maybe through the relay");
        CallMeMaybe call = (CallMeMaybe) port.first(e -> e.message instanceof CallMeMaybe).message;
        assertTrue(call.endpoints().contains(SELF_PUBLIC));
        await(() -> port.pingTo(PEER_LAN) != null && port.pingTo(PEER_PUBLIC) != null, "pings to LAN and public");
        assertEquals(TunnelStatus.State.PROBING, latest().state());

        advance(Duration.ofMillis(30));
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(PEER_PUBLIC).txid(), SELF_PUBLIC), PEER_PUBLIC));
        await(() -> latest().state() == TunnelStatus.State.DIRECT, "direct");
        assertEquals(PEER_PUBLIC, latest().endpoint());
        assertEquals(Duration.ofMillis(30), latest().latency());
        assertTrue(latest().reason().contains("reflexive endpoint 198.51.100.12:40112"), latest().reason());
        await(() -> port.has(e -> e.kind.equals("useDirect") && PEER_PUBLIC.equals(e.endpoint)), "traffic moved");
    }

    @Test
    void aLanPathThatAnswersLaterWinsOverAPublicOne() {
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> port.pingTo(PEER_LAN) != null && port.pingTo(PEER_PUBLIC) != null, "pings");
        Ping lanPing = port.pingTo(PEER_LAN);
        advance(Duration.ofMillis(3));
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(PEER_PUBLIC).txid(), null), PEER_PUBLIC));
        await(() -> latest().state() == TunnelStatus.State.DIRECT, "direct on the public endpoint first");
        advance(Duration.ofMillis(1));
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(lanPing.txid(), null), PEER_LAN));
        await(() -> PEER_LAN.equals(latest().endpoint()), "moved to the LAN endpoint");
        assertTrue(latest().reason().contains("a LAN path"), latest().reason());
    }

    @Test
    void silenceOnTheDirectPathFallsBackToTheRelayAndRetriesTheUpgrade() {
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> port.pingTo(PEER_PUBLIC) != null, "pings");
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(PEER_PUBLIC).txid(), null), PEER_PUBLIC));
        await(() -> latest().state() == TunnelStatus.State.DIRECT, "direct");
        port.events.clear();

        // Heartbeats go out but nothing answers: within directTimeout + one heartbeat the relay carries traffic.
        for (int i = 0; i < 40 && latest().state() == TunnelStatus.State.DIRECT; i++) {
            advance(Duration.ofMillis(250));
        }
        TunnelStatus fallback = latest();
        assertEquals(TunnelStatus.State.RELAYED, fallback.state());
        long elapsed = fallback.sinceNanos() - start;
        assertTrue(elapsed <= (settings.directTimeout().plus(settings.heartbeat()).plusSeconds(1)).toNanos(),
                "fell back after " + Duration.ofNanos(elapsed));
        assertTrue(fallback.reason().contains("stopped answering"), fallback.reason());
        assertTrue(port.has(e -> e.kind.equals("useRelay")));
        assertTrue(port.has(e -> e.kind.equals("rediscover")));
        assertTrue(port.pingTo(PEER_PUBLIC) != null, "heartbeats were sent");

        int attempts = fallback.attempts();
        advance(settings.upgradeRetry().plusMillis(100));
        await(() -> latest().attempts() == attempts + 1 && latest().state() == TunnelStatus.State.PROBING,
                "upgrade retried");
    }

    @Test
    void noAnswerSettlesOnTheRelayWithAReasonAndBacksOff() {
        spawn(new TunnelPeer(List.of(), List.of(PEER_PUBLIC), 0,
                new NatPolicy.Side(true, MappingBehavior.ADDRESS_AND_PORT_DEPENDENT)));
        await(() -> latest().state() == TunnelStatus.State.PROBING, "probing");
        advance(settings.probeWindow().plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.RELAYED, "relayed");
        TunnelStatus relayed = latest();
        assertTrue(relayed.reason().contains("maps per destination"), relayed.reason());
        assertTrue(relayed.reason().contains("198.51.100.12:40112"), relayed.reason());
        assertTrue(relayed.predicted() > 0, "port prediction was tried");
        assertTrue(relayed.reason().contains("port prediction sent " + relayed.predicted()), relayed.reason());

        advance(settings.retryAfter(1).minusMillis(200));
        assertEquals(TunnelStatus.State.RELAYED, latest().state(), "waits for the retry");
        advance(Duration.ofMillis(400));
        await(() -> latest().state() == TunnelStatus.State.PROBING && latest().attempts() == 2, "second attempt");
        advance(settings.probeWindow().plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.RELAYED && latest().attempts() == 2, "second failure");
        assertTrue(latest().reason().contains("next attempt in " + settings.retryAfter(2).toSeconds() + " s"),
                latest().reason());
    }

    @Test
    void portPredictionFindsTheSymmetricPeersMapping() {
        InetSocketAddress mapped = new InetSocketAddress("198.51.100.12", 40115);
        ActorRef<PeerTunnel.Command> tunnel = spawn(new TunnelPeer(List.of(), List.of(
                new InetSocketAddress("198.51.100.12", 40112), new InetSocketAddress("198.51.100.12", 40113)),
                51820, new NatPolicy.Side(true, MappingBehavior.ADDRESS_AND_PORT_DEPENDENT)));
        await(() -> port.pingTo(mapped) != null, "a guess covers the next sequential port");
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(mapped).txid(), null), mapped));
        await(() -> latest().state() == TunnelStatus.State.DIRECT, "direct");
        assertEquals(mapped, latest().endpoint());
        assertTrue(latest().reason().contains("port prediction"), latest().reason());
        long sprayed = port.events.stream().filter(e -> e.message instanceof Ping).count();
        assertTrue(sprayed <= settings.predictionBudget() + 8, "bounded: " + sprayed);
    }

    @Test
    void aPingFromAnUnknownAddressIsAnsweredThereAndProbedBack() {
        InetSocketAddress reflexive = new InetSocketAddress("198.51.100.12", 62000);
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> latest().state() == TunnelStatus.State.PROBING, "probing");
        Ping ping = new Ping("abcdefghijkl".getBytes());
        tunnel.tell(new PeerTunnel.ProbeReceived(ping, reflexive));
        await(() -> port.has(e -> reflexive.equals(e.endpoint) && e.message instanceof Pong pong
                && java.util.Arrays.equals(pong.txid(), ping.txid()) && reflexive.equals(pong.observed())), "pong");
        await(() -> port.pingTo(reflexive) != null, "probed back");
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(reflexive).txid(), null), reflexive));
        await(() -> reflexive.equals(latest().endpoint()), "direct to the learned endpoint");
        assertTrue(latest().reason().contains("the peer's probes came from"), latest().reason());
    }

    @Test
    void aPingReachingARelayedTunnelStartsProbingBackToWhereItCameFrom() {
        InetSocketAddress reflexive = new InetSocketAddress("198.51.100.12", 62001);
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        advance(settings.probeWindow().plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.RELAYED, "relayed after a failed attempt");
        port.events.clear();
        tunnel.tell(new PeerTunnel.ProbeReceived(new Ping("abcdefghijk2".getBytes()), reflexive));
        assertEquals(TunnelStatus.State.PROBING, latest().state(), "probing at once, not after the backoff");
        assertNotNull(port.pingTo(reflexive), "and probing the address the ping came from");
    }

    @Test
    void ownEndpointsLearnedMidAttemptGoToThePeerThroughTheRelayAtOnce() {
        TunnelPeer before = new TunnelPeer(List.of(new InetSocketAddress("10.0.0.2", 51820)), List.of(), 51820,
                NatPolicy.Side.unknown());
        ActorRef<PeerTunnel.Command> tunnel = testKit.spawn(PeerTunnel.create(port, settings, time::nowNanos,
                statuses::add, EASY_PEER, before, 42), "tunnel-" + spawned.incrementAndGet(),
                DispatcherSelector.fromConfig(PekkoSimScheduler.CALLING_THREAD_DISPATCHER));
        await(() -> latest().state() == TunnelStatus.State.PROBING, "probing");
        port.events.clear();
        tunnel.tell(new PeerTunnel.SelfChanged(SELF));
        RecordingPort.Event call = port.first(e -> e.kind.equals("relay") && e.message instanceof CallMeMaybe);
        assertNotNull(call, "a call-me-maybe with the new endpoints, without waiting for a probe round: "
                + port.events);
        assertTrue(((CallMeMaybe) call.message).endpoints().contains(SELF_PUBLIC), call.toString());
        assertNotNull(port.pingTo(PEER_PUBLIC), "and probes the peer with it");

        port.events.clear();
        tunnel.tell(new PeerTunnel.SelfChanged(SELF));
        assertFalse(port.has(e -> e.message instanceof CallMeMaybe), "the same endpoints again say nothing new");
    }

    @Test
    void aPongFromAnotherAddressThanThePingWentToProvesNothing() {
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> port.pingTo(PEER_PUBLIC) != null, "pings");
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(PEER_PUBLIC).txid(), null),
                new InetSocketAddress("192.0.2.66", 1234)));
        advance(Duration.ofMillis(100));
        assertEquals(TunnelStatus.State.PROBING, latest().state());
        assertFalse(port.has(e -> e.kind.equals("useDirect")));
    }

    @Test
    void relayPingsMeasureTheRelayPathAndAnswersGoBackThroughTheRelay() {
        TunnelSettings patient = new TunnelSettings(settings.probeInterval(), settings.probeWindow(),
                settings.heartbeat(), settings.directTimeout(), Duration.ofSeconds(60), Duration.ofSeconds(60),
                settings.reevaluate(), settings.relayPing(), settings.predictionBudget(), settings.predictionBatch(),
                settings.predictionPace(), settings.idleAfter(), settings.pathPolicy());
        ActorRef<PeerTunnel.Command> tunnel = spawn(new TunnelPeer(List.of(), List.of(), 0, NatPolicy.Side.unknown()),
                patient);
        advance(settings.probeWindow().plusMillis(100));
        await(() -> latest().state() == TunnelStatus.State.RELAYED, "relayed");
        Ping relayPing = port.latestRelayPing();
        assertNotNull(relayPing, "a relayed tunnel pings through the relay at once");
        advance(settings.relayPing().plusMillis(10));
        assertNotSame(relayPing, port.latestRelayPing(), "and again every " + settings.relayPing());
        relayPing = port.latestRelayPing();
        long sentAt = port.events.stream().filter(e -> e.kind.equals("relay") && e.message instanceof Ping)
                .reduce((a, b) -> b).orElseThrow().nanos;
        advance(Duration.ofMillis(40));
        Duration expected = Duration.ofNanos(time.nowNanos() - sentAt);
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(relayPing.txid(), null), null));
        await(() -> expected.equals(latest().latency()), "relay latency measured: " + expected);

        Ping fromPeer = new Ping("relay-ping-1".getBytes());
        tunnel.tell(new PeerTunnel.ProbeReceived(fromPeer, null));
        await(() -> port.has(e -> e.kind.equals("relay") && e.message instanceof Pong pong
                && java.util.Arrays.equals(pong.txid(), fromPeer.txid())), "answered through the relay");
    }

    @Test
    void aUserPingTakesThePathInUseAndSaysWhichAnswered() {
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> latest().state() == TunnelStatus.State.PROBING, "probing");
        var probe = testKit.<PeerTunnel.PingResult>createTestProbe();

        tunnel.tell(new PeerTunnel.PingPeer(probe.getRef()));
        Ping viaRelay = port.latestRelayPing();
        advance(Duration.ofMillis(25));
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(viaRelay.txid(), null), null));
        PeerTunnel.PingResult relayed = probe.receiveMessage();
        assertEquals(null, relayed.endpoint(), "answered through the relay");
        assertEquals(Duration.ofMillis(25), relayed.roundTrip());

        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(PEER_PUBLIC).txid(), null), PEER_PUBLIC));
        await(() -> latest().state() == TunnelStatus.State.DIRECT, "direct");
        tunnel.tell(new PeerTunnel.PingPeer(probe.getRef()));
        Ping direct = port.pingTo(PEER_PUBLIC);
        advance(Duration.ofMillis(4));
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(direct.txid(), null), PEER_PUBLIC));
        PeerTunnel.PingResult answered = probe.receiveMessage();
        assertEquals(PEER_PUBLIC, answered.endpoint());
        assertEquals(Duration.ofMillis(4), answered.roundTrip());
    }

    @Test
    void anIdleDirectPathIsNotHeartbeatedAndGetsAFullTimeoutWhenTrafficResumes() {
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> port.pingTo(PEER_PUBLIC) != null, "pings");
        tunnel.tell(new PeerTunnel.ProbeReceived(new Pong(port.pingTo(PEER_PUBLIC).txid(), null), PEER_PUBLIC));
        await(() -> latest().state() == TunnelStatus.State.DIRECT, "direct");
        port.idle = true;
        port.events.clear();
        advance(Duration.ofSeconds(30));
        assertFalse(port.has(e -> e.message instanceof Ping), "no heartbeats while idle");
        assertEquals(TunnelStatus.State.DIRECT, latest().state(), "an idle path is not declared dead");

        port.idle = false;
        advance(settings.heartbeat().plusMillis(10));
        assertNotNull(port.pingTo(PEER_PUBLIC), "heartbeats resume with traffic");
        assertEquals(TunnelStatus.State.DIRECT, latest().state(), "no instant fallback after the pause");
        for (int i = 0; i < 40 && latest().state() == TunnelStatus.State.DIRECT; i++) {
            advance(Duration.ofMillis(250));
        }
        assertEquals(TunnelStatus.State.RELAYED, latest().state(), "silence after resuming still falls back");
    }

    @Test
    void stoppingTheTunnelDropsThePeer() {
        ActorRef<PeerTunnel.Command> tunnel = spawn(EASY_PEER);
        await(() -> latest() != null, "started");
        tunnel.tell(PeerTunnel.Stop.INSTANCE);
        await(() -> port.has(e -> e.kind.equals("close")), "closed");
    }

    // ---- harness -----------------------------------------------------------------------------------------

    private ActorRef<PeerTunnel.Command> spawn(TunnelPeer peer) {
        return spawn(peer, settings);
    }

    private ActorRef<PeerTunnel.Command> spawn(TunnelPeer peer, TunnelSettings settings) {
        return spawn(peer, SELF, settings);
    }

    private ActorRef<PeerTunnel.Command> spawn(TunnelPeer peer, TunnelPeer self, TunnelSettings settings) {
        // The calling-thread dispatcher runs the actor on the thread that sends to it or advances time: every
        // step is processed before the next one, so the tests are deterministic.
        return testKit.spawn(PeerTunnel.create(port, settings, time::nowNanos, statuses::add, peer, self, 42),
                "tunnel-" + spawned.incrementAndGet(), DispatcherSelector.fromConfig(PekkoSimScheduler.CALLING_THREAD_DISPATCHER));
    }

    private TunnelStatus latest() {
        assertFalse(statuses.isEmpty(), "the tunnel published no status");
        return statuses.get(statuses.size() - 1);
    }

    private static void advance(Duration duration) {
        time.advance(duration);
    }

    /** Runs virtual time until {@code condition} holds, for at most 100 ms of it. */
    private static void await(java.util.function.BooleanSupplier condition, String what) {
        assertTrue(time.runUntil(condition, Duration.ofMillis(100)), what);
    }

    private static final class RecordingPort implements TunnelPort {
        record Event(String kind, InetSocketAddress endpoint, ProbeMessage message, long nanos) {
            Event(String kind, InetSocketAddress endpoint, ProbeMessage message) {
                this(kind, endpoint, message, time.nowNanos());
            }
        }

        final List<Event> events = new CopyOnWriteArrayList<>();
        volatile boolean idle;
        volatile boolean opensFirst;
        /** What {@link #learnNewFlowEndpoint} answers; null: this port cannot ask. */
        volatile InetSocketAddress fresh;

        @Override
        public boolean learnNewFlowEndpoint(java.util.function.Consumer<java.util.Optional<InetSocketAddress>> answer) {
            InetSocketAddress endpoint = fresh;
            if (endpoint == null) {
                return false;
            }
            events.add(new Event("learn", endpoint, null));
            answer.accept(java.util.Optional.of(endpoint));
            return true;
        }

        @Override
        public boolean sendDirectLimited(InetSocketAddress endpoint, ProbeMessage message, int ttl) {
            events.add(new Event("limited:" + ttl, endpoint, message));
            return true;
        }

        @Override
        public boolean opensFirst() {
            return opensFirst;
        }

        @Override
        public boolean idleFor(Duration quiet) {
            return idle;
        }

        @Override
        public void sendDirect(InetSocketAddress endpoint, ProbeMessage message) {
            events.add(new Event("direct", endpoint, message));
        }

        @Override
        public boolean sendViaRelay(ProbeMessage message) {
            events.add(new Event("relay", null, message));
            return true;
        }

        @Override
        public void useDirect(InetSocketAddress endpoint) {
            events.add(new Event("useDirect", endpoint, null));
        }

        @Override
        public void useRelay() {
            events.add(new Event("useRelay", null, null));
        }

        @Override
        public void rediscoverEndpoints() {
            events.add(new Event("rediscover", null, null));
        }

        @Override
        public void close() {
            events.add(new Event("close", null, null));
        }

        boolean has(Predicate<Event> predicate) {
            return events.stream().anyMatch(predicate);
        }

        Event first(Predicate<Event> predicate) {
            return events.stream().filter(predicate).findFirst().orElse(null);
        }

        Ping latestRelayPing() {
            List<Event> copy = new ArrayList<>(events);
            for (int i = copy.size() - 1; i >= 0; i--) {
                if (copy.get(i).kind.equals("relay") && copy.get(i).message instanceof Ping ping) {
                    return ping;
                }
            }
            return null;
        }

        /** The latest ping sent directly to {@code endpoint}. */
        Ping pingTo(InetSocketAddress endpoint) {
            List<Event> copy = new ArrayList<>(events);
            for (int i = copy.size() - 1; i >= 0; i--) {
                Event event = copy.get(i);
                if (event.kind.equals("direct") && endpoint.equals(event.endpoint) && event.message instanceof Ping ping) {
                    return ping;
                }
            }
            return null;
        }
    }
}
