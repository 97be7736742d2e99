package io.meshwork.tests.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.LabProcess;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.Site;
import io.meshwork.node.cli.StatusCommand;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Home relays and failover between real relays (docs/architecture.md, "Relay selection and failover"): control and
 * the relay "hub" on one public host, the relay "relay-b" on another; a node behind a symmetric NAT (relayed over
 * UDP) and one whose gateway drops UDP (relayed over TCP) reach each other through relays only. When the relay they
 * use is killed (SIGKILL, no goodbye), pings between them resume within 10 s through the other relay, with no
 * administrator doing anything, and {@code meshwork status} names the new home relay. The time is printed.
 */
class HomeRelayLabTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECOND_RELAY = "relay-b";

    @Test
    void killingTheRelayOfARelayedPairMovesItToTheOtherRelayWithinTenSeconds() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl");
        try (Lab lab = Lab.create("mwhome")) {
            LabMesh mesh = LabMesh.start(lab);
            LabProcess relayB = mesh.startRelay(SECOND_RELAY, "203.0.113.20");
            Site cafe = lab.site("cafe", NatKind.SYMMETRIC);
            Site guest = lab.site("guest", NatKind.UDP_BLOCKED);
            Host phone = cafe.host("phone");
            Host kiosk = guest.host("kiosk");
            mesh.startNode(phone, "mwhome0", Duration.ofSeconds(5));
            mesh.startNode(kiosk, "mwhome1", Duration.ofSeconds(5));
            String phoneOverlay = mesh.overlayOf(phone);
            String kioskOverlay = mesh.overlayOf(kiosk);
            assertTrue(phone.pingWithin(kioskOverlay, Duration.ofSeconds(60)), "phone reaches kiosk");
            assertTrue(kiosk.pingWithin(phoneOverlay, Duration.ofSeconds(30)), "kiosk reaches phone");

            // Both measured both relays and keep a home; the relay the phone's traffic to the kiosk goes through is
            // the kiosk's home relay.
            JsonNode phoneSelf = awaitMeasured(phone, mesh);
            JsonNode kioskSelf = awaitMeasured(kiosk, mesh);
            String phoneHome = phoneSelf.at("/homeRelay/name").asText();
            String kioskHome = kioskSelf.at("/homeRelay/name").asText();
            System.out.printf("home relay lab: phone's home %s %s, kiosk's home %s %s%n", phoneHome,
                    phoneSelf.at("/homeRelay/latencies"), kioskHome, kioskSelf.at("/homeRelay/latencies"));
            assertEquals("tcp", kioskSelf.at("/homeRelay/transport").asText(), "UDP is blocked at the kiosk's site");
            // The kiosk reports its home with its endpoints (at once when it moves, and with every probe); the phone
            // learns it from the peer map.
            assertEquals(kioskHome, awaitRelayOf(phone, mesh, "kiosk", kioskHome),
                    "the phone sends to the kiosk's home relay");

            // Kill the relay the kiosk's traffic arrives through (its home, where the phone sends).
            String killed = kioskHome;
            String survivor = killed.equals("hub") ? SECOND_RELAY : "hub";
            LabProcess victim = killed.equals("hub") ? mesh.hubRelay() : relayB;
            long killedAt = System.nanoTime();
            victim.kill();
            double phoneToKiosk = resumed(phone, kioskOverlay, killedAt);
            double kioskToPhone = resumed(kiosk, phoneOverlay, killedAt);
            System.out.printf("home relay lab: relay %s killed; phone -> kiosk pings resumed after %.1f s, kiosk ->"
                    + " phone after %.1f s%n", killed, phoneToKiosk, kioskToPhone);
            assertTrue(phoneToKiosk <= 10, "phone -> kiosk resumed after " + phoneToKiosk + " s");
            assertTrue(kioskToPhone <= 10, "kiosk -> phone resumed after " + kioskToPhone + " s");

            // Pings may resume before the kiosk leaves its dead home (the phone falls back to its own home, where the
            // kiosk is connected too); the kiosk moves after 5 s of silence and reports it.
            double moved = awaitHomeOtherThan(kiosk, mesh, killed, killedAt);
            System.out.printf("home relay lab: the kiosk's status named its new home relay after %.1f s%n", moved);
            assertTrue(moved <= 10, "the kiosk moved after " + moved + " s");
            ExecResult status = kiosk.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                    "--state", mesh.state(kiosk).toString());
            System.out.print("home relay lab: kiosk$ meshwork status\n" + status.stdout());
            assertEquals(0, status.exitCode(), status.describe());
            assertTrue(status.stdout().contains("home relay: " + survivor + " "), status.stdout());
            assertNotEquals(killed, self(kiosk, mesh).at("/homeRelay/name").asText());
            assertEquals(survivor, awaitRelayOf(phone, mesh, "kiosk", survivor), "the phone followed the kiosk");
        }
    }

    /** Seconds from {@code since} until {@code destination} answers a ping from {@code from} (60 s at most). */
    private static double resumed(Host from, String destination, long since) {
        long deadline = since + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (from.ping(destination, 1)) {
                return (System.nanoTime() - since) / 1e9;
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    /** Seconds from {@code since} until the node's status names a home relay other than {@code left} (30 s at most). */
    private static double awaitHomeOtherThan(Host node, LabMesh mesh, String left, long since) throws Exception {
        long deadline = since + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            String home = self(node, mesh).at("/homeRelay/name").asText("");
            if (!home.isEmpty() && !home.equals(left)) {
                return (System.nanoTime() - since) / 1e9;
            }
            Thread.sleep(200);
        }
        return Double.POSITIVE_INFINITY;
    }

    /** The node's status once it measured both relays and has a home relay connected. */
    private static JsonNode awaitMeasured(Host node, LabMesh mesh) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        JsonNode self;
        do {
            self = self(node, mesh);
            if (self.at("/homeRelay/latencies").size() == 2 && !self.at("/homeRelay/transport").isNull()
                    && !self.at("/homeRelay/transport").isMissingNode()) {
                return self;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(node.name() + " did not measure both relays: " + self);
    }

    private static JsonNode self(Host node, LabMesh mesh) throws Exception {
        return statusJson(node, mesh).get("self");
    }

    /** {@link #relayOf} once it is {@code expected}, or what it was after 30 s. */
    private static String awaitRelayOf(Host node, LabMesh mesh, String hostname, String expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String relay;
        do {
            relay = relayOf(node, mesh, hostname);
            if (expected.equals(relay)) {
                return relay;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        return relay;
    }

    /** The relay the node's relayed traffic to peer {@code hostname} goes through, per {@code meshwork status}. */
    private static String relayOf(Host node, LabMesh mesh, String hostname) throws Exception {
        for (JsonNode peer : statusJson(node, mesh).get("peers")) {
            if (peer.get("hostname").asText().equals(hostname)) {
                return peer.path("relay").asText(null);
            }
        }
        throw new AssertionError(node.name() + " has no peer " + hostname);
    }

    private static JsonNode statusJson(Host node, LabMesh mesh) throws Exception {
        ExecResult status = node.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                "--state", mesh.state(node).toString(), "--json");
        assertEquals(0, status.exitCode(), status.describe());
        return JSON.readTree(status.stdout());
    }
}
