package io.meshwork.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The network-level facts the tunnel logic will meet, checked with plain probe packets: which NAT pairs a
 * simultaneous open gets through, what port prediction buys against a sequential NAT, and what a mapping
 * flush or a move does to an open path.
 */
class HolePunchingTest {

    private final Simulation sim = Simulation.withSeed(9);
    private final ProbeSocket rendezvous = ProbeSocket.open(sim.network().addPublicHost("rendezvous", "203.0.113.5"),
            3478, sim.scheduler());

    private ProbeSocket peer(NatPreset preset, String name) {
        Site site = preset.build(sim.network(), name + "-site");
        return ProbeSocket.open(site.addHost(name), 41641, sim.scheduler());
    }

    /** The public endpoint the rendezvous server sees for {@code peer}, as a relay would report it. */
    private InetSocketAddress reflexive(ProbeSocket peer) {
        peer.send("register", rendezvous.address());
        sim.advance(Duration.ofSeconds(1));
        return rendezvous.lastSender();
    }

    /** Both sides send to each other at the same moment, three times 100 ms apart. */
    private void punch(ProbeSocket a, InetSocketAddress aTarget, ProbeSocket b, InetSocketAddress bTarget) {
        for (int attempt = 0; attempt < 3; attempt++) {
            a.send("punch", aTarget);
            b.send("punch", bTarget);
            sim.advance(Duration.ofMillis(100));
        }
        sim.advance(Duration.ofSeconds(1));
    }

    private boolean punchThrough(NatPreset left, NatPreset right) {
        ProbeSocket a = peer(left, "a");
        ProbeSocket b = peer(right, "b");
        InetSocketAddress aPublic = reflexive(a);
        InetSocketAddress bPublic = reflexive(b);
        punch(a, bPublic, b, aPublic);
        return a.texts().contains("punch") && b.texts().contains("punch");
    }

    @Test
    void coneNatsPunchThroughEachOther() {
        assertTrue(punchThrough(NatPreset.PORT_RESTRICTED_CONE, NatPreset.PORT_RESTRICTED_CONE));
    }

    @Test
    void carrierGradeDoubleNatPunchesThroughLikeACone() {
        assertTrue(punchThrough(NatPreset.CARRIER_GRADE_DOUBLE_NAT, NatPreset.PORT_RESTRICTED_CONE));
    }

    @Test
    void aSymmetricNatDefeatsAPortRestrictedCone() {
        assertFalse(punchThrough(NatPreset.SYMMETRIC_RANDOM, NatPreset.PORT_RESTRICTED_CONE));
    }

    @Test
    void aRestrictedConeLetsTheSymmetricSideInAndAnswersToTheSourceItSaw() {
        ProbeSocket cone = peer(NatPreset.RESTRICTED_CONE, "cone");
        ProbeSocket symmetric = peer(NatPreset.SYMMETRIC_RANDOM, "symmetric");
        InetSocketAddress conePublic = reflexive(cone);
        InetSocketAddress symmetricPublic = reflexive(symmetric);
        punch(cone, symmetricPublic, symmetric, conePublic);
        assertEquals(List.of(), symmetric.texts().stream().filter("punch"::equals).toList());
        assertTrue(cone.texts().contains("punch"), "address-dependent filtering admits the new port");
        InetSocketAddress symmetricTowardsCone = cone.lastSender();
        cone.send("reply", symmetricTowardsCone);
        sim.advance(Duration.ofSeconds(1));
        assertTrue(symmetric.texts().contains("reply"));
    }

    @Test
    void portPredictionOpensASequentialSymmetricNat() {
        ProbeSocket cone = peer(NatPreset.PORT_RESTRICTED_CONE, "cone");
        ProbeSocket sequential = peer(NatPreset.SYMMETRIC_SEQUENTIAL, "sequential");
        InetSocketAddress conePublic = reflexive(cone);
        InetSocketAddress sequentialPublic = reflexive(sequential);
        // The sequential NAT's next mapping, towards the cone, will take the next port; probe a few ahead.
        for (int ahead = 1; ahead <= 4; ahead++) {
            cone.send("guess", new InetSocketAddress(sequentialPublic.getAddress(), sequentialPublic.getPort() + ahead));
        }
        for (int attempt = 0; attempt < 3; attempt++) {
            sequential.send("punch", conePublic);
            sim.advance(Duration.ofMillis(100));
            for (int ahead = 1; ahead <= 4; ahead++) {
                cone.send("guess", new InetSocketAddress(sequentialPublic.getAddress(),
                        sequentialPublic.getPort() + ahead));
            }
            sim.advance(Duration.ofMillis(100));
        }
        assertTrue(cone.texts().contains("punch"));
        assertTrue(sequential.texts().contains("guess"));
        assertEquals(sequentialPublic.getPort() + 1, cone.lastSender().getPort());
    }

    @Test
    void udpBlockedLeavesNoDirectPath() {
        ProbeSocket blocked = peer(NatPreset.UDP_BLOCKED, "blocked");
        ProbeSocket open = peer(NatPreset.FULL_CONE, "open");
        InetSocketAddress openPublic = reflexive(open);
        blocked.send("register", rendezvous.address());
        NatBox blockingNat = sim.network().site("blocked-site").requireNat();
        punch(blocked, openPublic, open, new InetSocketAddress(blockingNat.publicIp(), 41641));
        assertEquals(List.of("register"), rendezvous.texts(), "only the open peer registered");
        assertEquals(List.of(), blocked.texts());
        assertEquals(List.of(), open.texts());
        assertEquals(7, blockingNat.counters().droppedBlocked());
    }

    @Test
    void hostsOnTheSameLanTalkOverPrivateAddressesEvenWithoutHairpinning() {
        Site lan = NatPreset.SAME_LAN.build(sim.network(), "lan");
        ProbeSocket a = ProbeSocket.open(lan.addHost("a"), 41641, sim.scheduler());
        ProbeSocket b = ProbeSocket.open(lan.addHost("b"), 41642, sim.scheduler());
        InetSocketAddress aPublic = reflexive(a);
        InetSocketAddress bPublic = reflexive(b);
        punch(a, bPublic, b, aPublic);
        assertEquals(List.of(), a.texts(), "no hairpinning: the public endpoints do not work");
        punch(a, b.address(), b, a.address());
        assertTrue(a.texts().contains("punch") && b.texts().contains("punch"));
    }

    @Test
    void aMappingFlushBreaksTheDirectPathUntilTheInsideSendsAgain() {
        ProbeSocket a = peer(NatPreset.PORT_RESTRICTED_CONE, "a");
        ProbeSocket b = peer(NatPreset.FULL_CONE, "b");
        InetSocketAddress aPublic = reflexive(a);
        InetSocketAddress bPublic = reflexive(b);
        punch(a, bPublic, b, aPublic);
        NatBox aNat = sim.network().site("a-site").requireNat();
        sim.at(Duration.ofMillis(500), aNat::flushMappings);
        sim.advance(Duration.ofSeconds(1));
        b.send("after the flush", aPublic);
        sim.advance(Duration.ofSeconds(1));
        assertFalse(a.texts().contains("after the flush"));
        assertEquals(1, aNat.counters().droppedNoMapping());
        a.send("keepalive", bPublic);
        sim.advance(Duration.ofSeconds(1));
        b.send("after the keepalive", aPublic);
        sim.advance(Duration.ofSeconds(1));
        assertTrue(a.texts().contains("after the keepalive"), "port preservation gives the same endpoint back");
    }

    @Test
    void aRoamingPeerIsReachedAgainAtItsNewEndpoint() {
        ProbeSocket a = peer(NatPreset.PORT_RESTRICTED_CONE, "a");
        ProbeSocket b = peer(NatPreset.FULL_CONE, "b");
        InetSocketAddress bPublic = reflexive(b);
        punch(a, bPublic, b, reflexive(a));
        Site cafe = NatPreset.RESTRICTED_CONE.build(sim.network(), "cafe");
        sim.at(Duration.ofMillis(10), () -> a.transport().host().moveTo(cafe));
        sim.advance(Duration.ofSeconds(1));
        InetSocketAddress aNewPublic = reflexive(a);
        assertEquals(cafe.requireNat().publicIp(), aNewPublic.getAddress());
        punch(a, bPublic, b, aNewPublic);
        assertEquals(List.of("punch", "punch", "punch", "punch", "punch", "punch"),
                b.texts().stream().filter("punch"::equals).toList());
        assertTrue(a.texts().stream().filter("punch"::equals).count() >= 4);
    }
}
