package io.meshwork.simulation.mesh;

import static io.meshwork.simulation.mesh.MeshAssertions.assertFlows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.relay.server.DropReason;
import io.meshwork.relay.server.RelayEngine;
import io.meshwork.simulation.NatPreset;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The relay of the simulation is the real one: it checks device certificates against its CA and revocation list,
 * and a restart loses every session, which the nodes' relay clients win back on their own. The pairs here sit
 * behind random-port symmetric NATs (or a UDP-blocking site), so the relay is their only path.
 */
class RelaySimulationTest {

    private static final Duration SETTLE = Duration.ofSeconds(20);

    @Test
    void aNodeWithACertificateFromAnotherCaIsRefusedWhileTrustedNodesRelay() {
        try (SimMesh mesh = SimMesh.withSeed(11)) {
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            SimNode tablet = mesh.node("tablet", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "hotel"));
            SimNode intruder = mesh.node("intruder", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "van"),
                    SimMesh.Credentials.OTHER_CA);
            mesh.group(phone, tablet, intruder);
            mesh.advance(SETTLE);

            RelayEngine relay = mesh.relayEngine().orElseThrow();
            assertEquals(Optional.of(Transport.UDP), relay.transportOf(key(phone)));
            assertEquals(Optional.of(Transport.UDP), relay.transportOf(key(tablet)));
            assertEquals(Optional.empty(), relay.transportOf(key(intruder)));
            assertEquals(2, relay.clientCount());
            assertTrue(relay.metrics().authentications(AuthStatus.UNTRUSTED) > 0, "the intruder was refused");
            RelayStatus refused = intruder.relayStatus();
            assertFalse(refused.connected(), refused.toString());
            assertEquals(Optional.of(AuthStatus.UNTRUSTED), refused.lastRefusal(), refused.toString());

            assertFlows(mesh, phone, tablet);
            assertFalse(phone.isDirectTo(tablet), "two random-port symmetric NATs never meet directly");

            long undeliverable = relay.metrics().drops(DropReason.NO_DESTINATION);
            for (int i = 0; i < 5; i++) {
                phone.sendData(intruder);
                intruder.sendData(phone);
            }
            mesh.advance(Duration.ofSeconds(1));
            assertEquals(0, intruder.dataFrom(phone), "nothing reaches the intruder");
            assertEquals(0, phone.dataFrom(intruder), "nothing comes from the intruder");
            assertTrue(relay.metrics().drops(DropReason.NO_DESTINATION) > undeliverable,
                    "the relay dropped what was sent to the key it never admitted");
            assertFalse(phone.isDirectTo(intruder));
        }
    }

    @Test
    void revokingACertificateAtTheRelayCutsThatNodeOffAndKeepsItOut() {
        try (SimMesh mesh = SimMesh.withSeed(12)) {
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            SimNode tablet = mesh.node("tablet", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "hotel"));
            mesh.group(phone, tablet);
            mesh.advance(SETTLE);
            assertFlows(mesh, phone, tablet);

            mesh.revokeAtRelay(tablet);
            mesh.advance(Duration.ofSeconds(5));

            RelayEngine relay = mesh.relayEngine().orElseThrow();
            assertEquals(Optional.empty(), relay.transportOf(key(tablet)), "the revoked session is closed");
            assertEquals(Optional.of(Transport.UDP), relay.transportOf(key(phone)), "the other one stays");
            assertTrue(relay.metrics().authentications(AuthStatus.REVOKED) > 0, "and it was refused on return");
            assertEquals(Optional.of(AuthStatus.REVOKED), tablet.relayStatus().lastRefusal(),
                    tablet.relayStatus().toString());
            int toTablet = tablet.dataFrom(phone);
            int toPhone = phone.dataFrom(tablet);
            for (int i = 0; i < 5; i++) {
                phone.sendData(tablet);
                tablet.sendData(phone);
            }
            mesh.advance(Duration.ofSeconds(1));
            assertEquals(toTablet, tablet.dataFrom(phone));
            assertEquals(toPhone, phone.dataFrom(tablet));
        }
    }

    @Test
    void afterARelayRestartEveryClientReconnectsOnItsOwnAndRelayedPairsResume() {
        try (SimMesh mesh = SimMesh.withSeed(13)) {
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            SimNode kiosk = mesh.node("kiosk", NatPreset.UDP_BLOCKED.build(mesh.network(), "guest"));
            mesh.group(phone, kiosk);
            mesh.advance(SETTLE);
            RelayEngine first = mesh.relayEngine().orElseThrow();
            assertEquals(Optional.of(Transport.UDP), first.transportOf(key(phone)));
            assertEquals(Optional.of(Transport.TCP), first.transportOf(key(kiosk)), "UDP is blocked at the kiosk");
            assertFlows(mesh, phone, kiosk);

            Duration outage = Duration.ofSeconds(5);
            mesh.restartRelay(outage);
            Duration restarted = mesh.now();
            mesh.advance(Duration.ofSeconds(1));
            assertTrue(mesh.relayEngine().isEmpty(), "the relay is down");
            assertEquals(0, first.clientCount(), "the old process dropped every session");
            assertFalse(phone.relayStatus().connected(), phone.relayStatus().toString());
            assertFalse(kiosk.relayStatus().connected(), kiosk.relayStatus().toString());
            int before = kiosk.dataFrom(phone);
            phone.sendData(kiosk);
            mesh.advance(Duration.ofSeconds(1));
            assertEquals(before, kiosk.dataFrom(phone), "nothing is relayed while the relay is down");

            assertTrue(mesh.runUntil(() -> phone.relayStatus().connected() && kiosk.relayStatus().connected(),
                    Duration.ofSeconds(40)), phone.relayStatus() + " / " + kiosk.relayStatus());
            Duration back = mesh.now().minus(restarted);
            RelayEngine second = mesh.relayEngine().orElseThrow();
            assertEquals(2, mesh.relay().starts());
            assertNotEquals(first.publicKey(), second.publicKey(), "a new process with a new key");
            assertEquals(Optional.of(Transport.UDP), second.transportOf(key(phone)));
            assertEquals(Optional.of(Transport.TCP), second.transportOf(key(kiosk)));
            assertTrue(back.compareTo(outage) > 0, "nobody reconnects before the relay is back: " + back);
            System.out.printf("relay restart: both clients back %.1f s after the restart (%d s outage)%n",
                    back.toNanos() / 1e9, outage.toSeconds());
            assertFlows(mesh, phone, kiosk);
            assertFalse(phone.isDirectTo(kiosk), "UDP is blocked at the kiosk");
        }
    }

    @Test
    void afterARelayCrashUdpClientsAreToldTheyAreUnknownAndAuthenticateAgainWithoutWaitingToTimeOut() {
        try (SimMesh mesh = SimMesh.withSeed(14)) {
            SimNode phone = mesh.node("phone", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "cafe"));
            SimNode tablet = mesh.node("tablet", NatPreset.SYMMETRIC_RANDOM.build(mesh.network(), "hotel"));
            mesh.group(phone, tablet);
            mesh.advance(SETTLE);
            assertFlows(mesh, phone, tablet);

            Duration outage = Duration.ofSeconds(3);
            mesh.crashRelay(outage);
            Duration crashed = mesh.now();
            mesh.advance(Duration.ofSeconds(1));
            assertTrue(mesh.relayEngine().isEmpty(), "the relay is down");
            assertTrue(phone.relayStatus().connected(), "without a goodbye the client has not noticed yet");

            assertTrue(mesh.runUntil(() -> mesh.relayEngine().map(relay -> relay.clientCount() == 2).orElse(false)
                    && phone.relayStatus().connected() && tablet.relayStatus().connected(), Duration.ofSeconds(30)),
                    phone.relayStatus() + " / " + tablet.relayStatus());
            Duration back = mesh.now().minus(crashed);
            RelayEngine second = mesh.relayEngine().orElseThrow();
            assertTrue(second.metrics().drops(DropReason.UNAUTHENTICATED) > 0,
                    "the new process answered a frame of a session it never had");
            Duration keepalive = RelayClientConfig.defaults().keepaliveInterval();
            // Keepalives (and relay pings of the tunnels) keep frames coming, so the first one after the outage
            // gets the answer; the dead-after time (16 s) never comes into it.
            assertTrue(back.compareTo(outage.plus(keepalive).plusSeconds(1)) < 0,
                    "back by the first keepalive after the relay is, not after the dead-after time: " + back);
            System.out.printf("relay crash: both clients back %.1f s after the crash (%d s outage)%n",
                    back.toNanos() / 1e9, outage.toSeconds());
            assertFlows(mesh, phone, tablet);
        }
    }

    private static RelayKey key(SimNode node) {
        return RelayKey.of(node.publicKey().toBytes());
    }
}
