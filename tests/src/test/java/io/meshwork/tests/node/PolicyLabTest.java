package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Peer maps trimmed by policy, on the real pieces (docs/api.md, "Security groups"). Three nodes: {@code app}, and
 * {@code db} and {@code guest} on one LAN. The groups, there before any node joins, let each of db and guest accept
 * the app alone, so neither may reach the other: guest's {@code meshwork status} lists the app and not db, and
 * not one packet goes between the two hosts on their LAN (netfilter counters on both), no probe and no handshake. Then a rule lets guest reach db: within 2 s both have the other in their
 * peer map, and they reach each other, which the same counters see.
 */
class PolicyLabTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "MWPOLICY";

    @Test
    void policyHidesGuestFromDbUntilARuleLetsThemMeet() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl", "iptables");
        try (Lab lab = Lab.create("mwpol")) {
            LabMesh mesh = LabMesh.start(lab);
            String appKey = mesh.createKey("app");
            String dbKey = mesh.createKey("db");
            String guestKey = mesh.createKey("guest");
            String groups = "/api/v1/organizations/" + mesh.organizationId() + "/security-groups";
            mesh.api("POST", groups, "{\"name\":\"db\",\"appliesTo\":[\"tag:db\"],"
                    + "\"rules\":[{\"protocol\":\"any\",\"peers\":[\"tag:app\"]}]}");
            mesh.api("POST", groups, "{\"name\":\"guests\",\"appliesTo\":[\"tag:guest\"],"
                    + "\"rules\":[{\"protocol\":\"any\",\"peers\":[\"tag:app\"]}]}");

            Site office = lab.site("office", NatKind.ENDPOINT_INDEPENDENT);
            Site datacenter = lab.site("dc", NatKind.ENDPOINT_INDEPENDENT);
            Host db = office.host("db");
            Host guest = office.host("guest");
            Host app = datacenter.host("app");
            // Everything between db and guest on their LAN, where a peer that learned the other would probe it first
            // (a node reports its LAN address among its endpoints). Their site's public address carries each one's
            // own NAT hairpin check as well, so it cannot tell; the counters do see the two meet once they may.
            count(guest, db.address());
            count(db, guest.address());

            mesh.startNodeWithKey(app, "mwpol0", Duration.ofSeconds(2), appKey);
            LabProcess dbNode = mesh.startNodeWithKey(db, "mwpol1", Duration.ofSeconds(2), dbKey);
            LabProcess guestNode = mesh.startNodeWithKey(guest, "mwpol2", Duration.ofSeconds(2), guestKey);
            for (Host from : List.of(db, guest)) {
                assertTrue(from.pingWithin(mesh.overlayOf(app), Duration.ofSeconds(60)), from.name() + " -> app");
                assertTrue(app.pingWithin(mesh.overlayOf(from), Duration.ofSeconds(60)), "app -> " + from.name());
            }
            // Probes every 2 s: had either learned the other, it would have probed it by now.
            Thread.sleep(Duration.ofSeconds(10).toMillis());

            assertEquals(List.of("app"), statusPeers(mesh, guest), "guest's status lists the app, not db");
            assertEquals(List.of("app"), statusPeers(mesh, db), "nor does db's list guest");
            assertTrue(!guestNode.output().contains("peer db "), "db never entered guest's map:\n" + guestNode.output());
            long before = packets(guest) + packets(db);
            System.out.printf("policy lab: %d packets between db and guest while policy hides them%n", before);
            assertEquals(0, before, "no probe and no handshake between db and guest");

            long started = System.nanoTime();
            mesh.api("PUT", groups + "/db", "{\"rules\":[{\"protocol\":\"any\",\"peers\":[\"tag:app\",\"tag:guest\"]}]}");
            guestNode.awaitOutput(Pattern.compile("peer db \\("), Duration.ofSeconds(10));
            double guestSeconds = (System.nanoTime() - started) / 1e9;
            dbNode.awaitOutput(Pattern.compile("peer guest \\("), Duration.ofSeconds(10));
            double dbSeconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("policy lab: a rule made guest and db peers after %.2f s (guest) and %.2f s (db)%n",
                    guestSeconds, dbSeconds);
            assertTrue(guestSeconds < 2 && dbSeconds < 2, "peers within 2 s: " + guestSeconds + ", " + dbSeconds);
            assertTrue(guest.pingWithin(mesh.overlayOf(db), Duration.ofSeconds(30)), "guest reaches db");
            assertEquals(List.of("app", "db"), statusPeers(mesh, guest));
            long after = packets(guest) + packets(db);
            System.out.printf("policy lab: %d packets between db and guest once they are peers%n", after);
            assertTrue(after > 0, "the counters see the two meet once policy lets them");
        }
    }

    /** Counts, in {@code host}'s namespace, every packet to or from any of {@code addresses}. */
    private static void count(Host host, String... addresses) {
        host.exec("iptables", "-N", CHAIN).orThrow();
        host.exec("iptables", "-I", "INPUT", "1", "-j", CHAIN).orThrow();
        host.exec("iptables", "-I", "OUTPUT", "1", "-j", CHAIN).orThrow();
        for (String address : addresses) {
            host.exec("iptables", "-A", CHAIN, "-s", address, "-j", "RETURN").orThrow();
            host.exec("iptables", "-A", CHAIN, "-d", address, "-j", "RETURN").orThrow();
        }
    }

    /** The packets the counting rules of {@code host} saw. */
    private static long packets(Host host) {
        ExecResult listing = host.exec("iptables", "-L", CHAIN, "-n", "-v", "-x");
        listing.orThrow();
        System.out.print("policy lab: " + host.name() + "$ iptables -L " + CHAIN + " -n -v -x\n" + listing.stdout());
        long total = 0;
        for (String line : listing.stdout().lines().toList()) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length > 2 && columns[2].equals("RETURN")) {
                total += Long.parseLong(columns[0]);
            }
        }
        return total;
    }

    /** The hostnames of the peers {@code meshwork status --json} lists on {@code host}. */
    private static List<String> statusPeers(LabMesh mesh, Host host) throws Exception {
        ExecResult status = host.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                "--state", mesh.state(host).toString(), "--json");
        assertEquals(0, status.exitCode(), status.describe());
        List<String> names = new ArrayList<>();
        for (JsonNode peer : JSON.readTree(status.stdout()).get("peers")) {
            names.add(peer.get("hostname").asText());
        }
        return names;
    }
}
