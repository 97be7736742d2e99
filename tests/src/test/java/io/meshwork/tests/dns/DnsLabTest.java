package io.meshwork.tests.dns;

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
import io.meshwork.node.cli.NodeDownCommand;
import io.meshwork.node.cli.StatusCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Names on a real mesh (docs/architecture.md, "Names"): two nodes behind one NAT, control and a relay on the lab
 * internet, and a small authoritative server there that the hosts used before the mesh. Each node runs with
 * {@code --dns resolvconf} against its namespace's own {@code /etc/netns/NAME/resolv.conf} (the machine's DNS is
 * never touched, and the test checks that). With {@code dig @100.100.100.100}: A, AAAA and PTR of the peer, over
 * UDP and TCP; NXDOMAIN for an unknown mesh name; a name outside the mesh forwarded to the lab's server; a custom
 * record; a renamed device under its new name within 2 s. Then {@code ping NAME} through the host's resolver
 * library, and {@code node down} puts the namespace's resolv.conf back.
 */
class DnsLabTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UPSTREAM_IP = "203.0.113.53";
    private static final String UPSTREAM_NAME = "www.upstream.example";
    private static final String UPSTREAM_ANSWER = "198.51.100.80";
    private static final String ORIGINAL = "# the lab host's own\nnameserver " + UPSTREAM_IP + "\n";

    private static String dig(Host host, String... query) {
        List<String> command = new java.util.ArrayList<>(List.of("dig", "@100.100.100.100", "+time=2",
                "+tries=1"));
        command.addAll(List.of(query));
        ExecResult result = host.exec(Duration.ofSeconds(10), command.toArray(String[]::new));
        return result.stdout();
    }

    private static String digShort(Host host, String... query) {
        List<String> args = new java.util.ArrayList<>(List.of("+short"));
        args.addAll(List.of(query));
        return dig(host, args.toArray(String[]::new)).strip();
    }

    private static JsonNode identity(LabMesh mesh, Host host) throws IOException {
        return JSON.readTree(mesh.state(host).resolve("identity.json").toFile()).get("registration");
    }

    @Test
    void nodesResolveEachOtherCustomRecordsRenamesAndForwardTheRest() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl", "dig", "ping");
        Path hostResolvConf = Path.of("/etc/resolv.conf");
        String hostDnsBefore = Files.exists(hostResolvConf) ? Files.readString(hostResolvConf) : null;
        try (Lab lab = Lab.create("mwdns")) {
            LabMesh mesh = LabMesh.start(lab);
            Host nameServer = lab.publicHost("ns", UPSTREAM_IP);
            nameServer.java(LabAuthoritativeServer.class, "--listen", UPSTREAM_IP, "--name", UPSTREAM_NAME,
                    "--address", UPSTREAM_ANSWER).awaitOutput(Pattern.compile("lab dns ready"), Duration.ofSeconds(60));
            // Warm (a cold JVM's first answer can take longer than a resolver waits): asked where it runs.
            long warm = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!nameServer.exec("dig", "@" + UPSTREAM_IP, "+short", "+time=2", "+tries=1", UPSTREAM_NAME).stdout()
                    .strip().equals(UPSTREAM_ANSWER) && System.nanoTime() < warm) {
                Thread.sleep(200);
            }
            Site home = lab.site("home", NatKind.ENDPOINT_INDEPENDENT);
            Host laptop = home.host("laptop");
            Host db = home.host("db-1");
            // Each host's own resolv.conf: ip netns exec mounts it over /etc/resolv.conf there.
            List<Path> resolvConfs = List.of(laptop.ownResolvConf(ORIGINAL), db.ownResolvConf(ORIGINAL));
            LabProcess laptopNode = mesh.startNode(laptop, "mwdns0", Duration.ofSeconds(5), "--dns", "resolvconf");
            mesh.startNode(db, "mwdns1", Duration.ofSeconds(5), "--dns", "resolvconf", "--dns-upstream",
                    UPSTREAM_IP);
            String dbV4 = mesh.overlayOf(db);
            String dbV6 = identity(mesh, db).at("/overlayIps/1").asText();
            String dbId = identity(mesh, db).get("id").asText();
            assertTrue(laptop.pingWithin(dbV4, Duration.ofSeconds(60)), "laptop reaches db-1 at " + dbV4);

            // The peer by name: A, AAAA and PTR, over UDP and TCP.
            assertEquals(dbV4, digShort(laptop, "db-1.meshwork.internal", "A"));
            assertEquals(dbV4, digShort(laptop, "+tcp", "db-1.meshwork.internal", "A"));
            assertEquals(java.net.InetAddress.getByName(dbV6), java.net.InetAddress.getByName(
                    digShort(laptop, "db-1.meshwork.internal", "AAAA")));
            assertEquals("db-1.meshwork.internal.", digShort(laptop, "-x", dbV4));
            assertEquals(mesh.overlayOf(laptop), digShort(db, "laptop.meshwork.internal"), "and the other way");
            assertTrue(dig(laptop, "nobody.meshwork.internal").contains("status: NXDOMAIN"),
                    "an unknown mesh name is NXDOMAIN");
            // Outside the mesh: forwarded to the server the namespace's resolv.conf named before.
            assertEquals(UPSTREAM_ANSWER, digShort(laptop, UPSTREAM_NAME));
            assertEquals(UPSTREAM_ANSWER, digShort(db, UPSTREAM_NAME), "and to --dns-upstream");
            assertTrue(dig(laptop, "nothing.upstream.example").contains("status: NXDOMAIN"));
            System.out.println("dns lab: A, AAAA, PTR, NXDOMAIN and forwarding answered");

            // The host's own resolver library uses the mesh resolver: ping by name.
            String rewritten = Files.readString(resolvConfs.get(0));
            assertTrue(rewritten.contains("nameserver 100.100.100.100"), rewritten);
            ExecResult ping = laptop.exec(Duration.ofSeconds(20), "ping", "-c", "1", "-W", "2",
                    "db-1.meshwork.internal");
            assertEquals(0, ping.exitCode(), ping.describe());
            assertTrue(ping.stdout().contains("(" + dbV6 + ")") || ping.stdout().contains("(" + dbV4 + ")"),
                    "the name is db-1's address (AAAA first, as the resolver library asks): " + ping.stdout());
            ExecResult ping4 = laptop.exec(Duration.ofSeconds(20), "ping", "-4", "-c", "1", "-W", "2",
                    "db-1.meshwork.internal");
            assertTrue(ping4.succeeded() && ping4.stdout().contains("(" + dbV4 + ")"), ping4.describe());
            assertTrue(laptop.exec(Duration.ofSeconds(20), "ping", "-c", "1", "-W", "2", "db-1").succeeded(),
                    "the mesh domain is searched");
            System.out.print("dns lab: laptop$ ping -c 1 db-1.meshwork.internal\n" + ping.stdout());

            // A custom record reaches the nodes on the peer-map stream.
            String organization = "/api/v1/organizations/" + mesh.organizationId();
            mesh.api("POST", organization + "/dns/records", "{\"name\":\"pg\",\"type\":\"A\",\"value\":\""
                    + dbV4 + "\"}");
            assertTrue(answersWithin(laptop, "pg.meshwork.internal", dbV4, Duration.ofSeconds(10)),
                    "the custom record resolves");

            // A rename: the new name answers within 2 s.
            long renamed = System.nanoTime();
            mesh.api("PATCH", "/api/v1/devices/" + dbId, "{\"hostname\":\"db-2\"}");
            assertTrue(answersWithin(laptop, "db-2.meshwork.internal", dbV4, Duration.ofSeconds(2)),
                    "db-2 resolves within 2 s of the rename");
            System.out.printf("dns lab: renamed db-1 -> db-2, resolved after %.0f ms%n",
                    (System.nanoTime() - renamed) / 1e6);
            assertTrue(dig(laptop, "db-1.meshwork.internal").contains("status: NXDOMAIN"), "the old name is gone");

            ExecResult status = laptop.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                    "--state", mesh.state(laptop).toString());
            assertTrue(status.stdout().contains("dns: resolvconf, laptop.meshwork.internal at 100.100.100.100"),
                    status.stdout());
            System.out.print("dns lab: laptop$ meshwork status\n" + status.stdout());

            // node down puts the namespace's resolv.conf back.
            ExecResult down = laptop.javaExec(Duration.ofSeconds(60), NodeDownCommand.class.getName(),
                    "--state", mesh.state(laptop).toString());
            assertEquals(0, down.exitCode(), down.describe());
            laptopNode.awaitExit(Duration.ofSeconds(30));
            assertEquals(ORIGINAL, Files.readString(resolvConfs.get(0)), "restored at node down");
        }
        assertEquals(hostDnsBefore, Files.exists(hostResolvConf) ? Files.readString(hostResolvConf) : null,
                "the machine's own resolv.conf is untouched");
    }

    /** Asks {@code name} every 50 ms until it answers {@code address} or {@code patience} is over. */
    private static boolean answersWithin(Host host, String name, String address, Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        do {
            if (digShort(host, name).equals(address)) {
                return true;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        } while (System.nanoTime() < deadline);
        return false;
    }
}
