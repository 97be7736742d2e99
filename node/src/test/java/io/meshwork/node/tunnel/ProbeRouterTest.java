package io.meshwork.node.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwork.protocol.probe.ProbeCodec;
import io.meshwork.protocol.probe.ProbeException;
import io.meshwork.protocol.probe.ProbeMessage;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Only fresh, authentic probes from peers reach a tunnel; replayed and stale ones are dropped and counted. */
class ProbeRouterTest {

    private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");

    private final ActorTestKit testKit = ActorTestKit.create();
    private final TestProbe<TunnelSupervisor.Command> supervisor = testKit.createTestProbe();
    private final Key self = Key.generatePrivate();
    private final Key peer = Key.generatePrivate();
    private final InetSocketAddress from = new InetSocketAddress("198.51.100.7", 41641);
    private final ProbeMessage.Ping ping = new ProbeMessage.Ping("0123456789ab".getBytes());

    @AfterEach
    void tearDown() {
        testKit.shutdownTestKit();
    }

    private ProbeRouter router(Instant now) {
        return new ProbeRouter(new ProbeCodec(self, Clock.fixed(now, ZoneOffset.UTC), Duration.ofMinutes(5)),
                peer.publicKey()::equals, supervisor.ref());
    }

    private ByteBuffer sealedByPeer(Instant at) {
        return new ProbeCodec(peer, Clock.fixed(at, ZoneOffset.UTC), Duration.ofMinutes(5))
                .seal(self.publicKey(), ping);
    }

    @Test
    void aReplayedProbeIsDroppedAndCountedWhileFreshOnesPass() {
        ProbeRouter router = router(NOW);
        ByteBuffer captured = sealedByPeer(NOW);

        router.onDatagram(captured.duplicate(), from);
        TunnelSupervisor.ProbeFrom first = supervisor.expectMessageClass(TunnelSupervisor.ProbeFrom.class);
        assertEquals(peer.publicKey(), first.peer());
        assertEquals(ping, first.message());

        router.onDatagram(captured.duplicate(), from);
        router.onRelayed(captured.duplicate());
        assertEquals(2, router.dropped(ProbeException.Reason.REPLAYED));

        router.onDatagram(sealedByPeer(NOW.plusSeconds(1)), from);
        assertEquals(ping, supervisor.expectMessageClass(TunnelSupervisor.ProbeFrom.class).message());
        supervisor.expectNoMessage(Duration.ofMillis(50));
    }

    @Test
    void aProbeFromLongAgoIsStaleEvenToANodeThatNeverSawIt() {
        ProbeRouter router = router(NOW);
        router.onDatagram(sealedByPeer(NOW.minus(Duration.ofMinutes(10))), from);
        assertEquals(1, router.dropped(ProbeException.Reason.STALE));
        supervisor.expectNoMessage(Duration.ofMillis(50));
    }
}
