package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.LabProcess;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.Site;
import io.meshwork.lab.tools.TcpTransfer;
import io.meshwork.node.cli.NodeDownCommand;
import io.meshwork.node.cli.StatusCommand;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Subnet routers and exit nodes on the real pieces (docs/architecture.md, "Subnet routers and exit nodes"):
 * <ul>
 * <li>site A's router advertises its LAN (approved by its registration key), and site C's client with
 * {@code --accept-routes} reaches a host on that LAN that runs no agent: ping, and a checked TCP stream the LAN host
 * sees come from the router (SNAT);</li>
 * <li>a second router on the LAN advertises the same prefix: the first stays primary; killed (SIGKILL, no goodbye),
 * traffic moves to the second within 15 s, and when the first comes back it does not take the prefix back; its
 * start after the crash removed the rules the killed process left;</li>
 * <li>the router's security groups decide what it routes, by the client's overlay address;</li>
 * <li>{@code node down} leaves no forwarding, NAT or route behind;</li>
 * <li>an exit node on a public address carries the client's traffic to an internet host, which sees the exit node's
 * address, while the client's tunnels keep working.</li>
 * </ul>
 */
class SubnetRouterLabTest {

    private static final Pattern FROM = Pattern.compile("from=(\\S+)");

    @Test
    void aClientReachesAnotherSitesLanThroughItsRouterAndFailsOverToTheSecond() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("iptables", "ping");
        try (Lab lab = Lab.create("mwrt")) {
            LabMesh mesh = LabMesh.start(lab);
            Site a = lab.site("a", NatKind.ENDPOINT_INDEPENDENT);
            Site c = lab.site("c", NatKind.ENDPOINT_INDEPENDENT);
            Host router1 = a.host("router1");
            Host router2 = a.host("router2");
            Host printer = a.host("printer");
            Host client = c.host("client");
            String lan = a.lanCidr();
            String key = mesh.api("POST", "/api/v1/organizations/" + mesh.organizationId() + "/keys",
                    "{\"reusable\":true,\"autoApproveRoutes\":{\"routes\":[\"" + lan + "\"]}}").get("key").asText();
            String forwardingBefore = sysctl(router1, "net/ipv4/ip_forward");

            LabProcess first = mesh.startNodeWithKey(router1, "mwrt0", Duration.ofSeconds(2), key,
                    "--advertise-routes", lan, "--dns", "off");
            LabProcess clientNode = mesh.startNode(client, "mwrt1", Duration.ofSeconds(2), "--accept-routes",
                    "--dns", "off");
            long started = System.nanoTime();
            assertTrue(client.pingWithin(printer.address(), Duration.ofSeconds(60)),
                    "the client reaches the printer, which runs no agent\n" + clientNode.output());
            System.out.printf("subnet router lab: client reached %s on site A's LAN %.1f s after start%n",
                    printer.address(), (System.nanoTime() - started) / 1e9);
            assertEquals(router1.address(), transfer(client, printer, 7100), "SNAT: the printer sees the router");
            String status = status(mesh, client);
            assertTrue(status.contains("route " + lan + " via router1\n"), status);
            String routerStatus = status(mesh, router1);
            assertTrue(routerStatus.contains("advertising: " + lan + "; approved: " + lan), routerStatus);
            assertTrue(routerStatus.contains("forwarding: iptables with SNAT"), routerStatus);

            // A second router for the same LAN: the first keeps the prefix.
            LabProcess second = mesh.startNodeWithKey(router2, "mwrt2", Duration.ofSeconds(2), key,
                    "--advertise-routes", lan, "--dns", "off");
            Thread.sleep(4000);
            assertTrue(status(mesh, client).contains("route " + lan + " via router1\n"));

            // The primary dies without a word: within 15 s the client's traffic goes through the second.
            kill(first);
            long killed = System.nanoTime();
            boolean moved = false;
            while (!moved && System.nanoTime() - killed < Duration.ofSeconds(30).toNanos()) {
                moved = client.ping(printer.address(), 1);
            }
            double failover = (System.nanoTime() - killed) / 1e9;
            System.out.printf("subnet router lab: traffic moved to the second router %.1f s after the primary was "
                    + "killed%n", failover);
            assertTrue(moved, "traffic moved to router2\n" + second.output());
            assertTrue(failover < 15, "within 15 s: " + failover);
            assertTrue(status(mesh, client).contains("route " + lan + " via router2\n"));
            assertEquals(router2.address(), transfer(client, printer, 7101), "now through the second router");

            // The killed router left its rules; its next start removes them, and it does not take the prefix back.
            assertTrue(router1.exec("iptables", "-S", "FORWARD").stdout().contains("MWF-mwrt0"));
            LabProcess again = mesh.startNodeWithKey(router1, "mwrt0", Duration.ofSeconds(2), key,
                    "--advertise-routes", lan, "--dns", "off");
            again.awaitOutput(Pattern.compile("routing " + Pattern.quote(lan)), Duration.ofSeconds(30));
            assertEquals(1, count(router1.exec("iptables", "-S", "FORWARD").stdout(), "-j MWF-mwrt0"),
                    "the crashed run's rules were removed, not doubled");
            Thread.sleep(5000);
            assertTrue(status(mesh, client).contains("route " + lan + " via router2\n"), "no flap back");

            // The router's security groups apply to what it routes: a group letting the client ping router2 and
            // nothing else stops the TCP stream to the printer behind it, and not the ping.
            mesh.api("POST", "/api/v1/organizations/" + mesh.organizationId() + "/security-groups",
                    "{\"name\":\"router\",\"appliesTo\":[\"" + mesh.deviceIdOf(router2) + "\"],"
                            + "\"rules\":[{\"protocol\":\"icmp\",\"peers\":[\"" + mesh.deviceIdOf(client) + "\"]}]}");
            Thread.sleep(3000);
            assertTrue(client.pingWithin(printer.address(), Duration.ofSeconds(10)), "icmp is allowed");
            LabProcess sink = printer.java(TcpTransfer.class, "--listen", "7102");
            sink.awaitOutput(Pattern.compile("listening"), Duration.ofSeconds(30));
            ExecResult refused = client.javaExec(Duration.ofSeconds(60), TcpTransfer.class.getName(),
                    "--connect", printer.address() + ":7102", "--bytes", "1024");
            sink.stop();
            assertTrue(refused.exitCode() != 0, "tcp through the router is refused by its group: " + refused.describe());
            assertFalse(sink.output().contains("from="), "nothing reached the printer: " + sink.output());

            // node down leaves nothing behind.
            down(mesh, router1);
            down(mesh, router2);
            down(mesh, client);
            for (Host router : java.util.List.of(router1, router2)) {
                String rules = router.exec("iptables", "-S").stdout() + router.exec("iptables", "-t", "nat", "-S")
                        .stdout();
                assertFalse(rules.contains("MWF-") || rules.contains("MWN-"), router.name() + ":\n" + rules);
                assertEquals(forwardingBefore, sysctl(router, "net/ipv4/ip_forward"), router.name());
                assertFalse(java.nio.file.Files.exists(mesh.state(router).resolve("routing.json")));
            }
            assertFalse(client.exec("ip", "route").stdout().contains(lan), client.exec("ip", "route").stdout());
            assertFalse(client.ping(printer.address(), 1), "no route to site A's LAN any more");
        }
    }

    @Test
    void anExitNodeCarriesTheClientsInternetTrafficWhileItsTunnelsKeepWorking() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("iptables", "ping");
        try (Lab lab = Lab.create("mwex")) {
            LabMesh mesh = LabMesh.start(lab);
            Host exit = lab.publicHost("exit", "203.0.113.50");
            Host web = lab.publicHost("web", "203.0.113.60");
            Site c = lab.site("c", NatKind.ENDPOINT_INDEPENDENT);
            Site d = lab.site("d", NatKind.ENDPOINT_INDEPENDENT);
            Host client = c.host("client");
            Host peer = d.host("peer");
            String key = mesh.api("POST", "/api/v1/organizations/" + mesh.organizationId() + "/keys",
                    "{\"reusable\":true,\"autoApproveRoutes\":{\"routes\":[],\"exitNode\":true}}").get("key").asText();
            mesh.startNodeWithKey(exit, "mwex0", Duration.ofSeconds(2), key, "--advertise-exit-node", "--dns", "off");
            mesh.startNode(peer, "mwex2", Duration.ofSeconds(2), "--dns", "off");
            assertEquals(c.publicAddress(), transfer(client, web, 7200), "before: the web sees site C's NAT");

            LabProcess clientNode = mesh.startNode(client, "mwex1", Duration.ofSeconds(2), "--exit-node", "exit",
                    "--dns", "off");
            clientNode.awaitOutput(Pattern.compile("exit node: default traffic goes through"),
                    Duration.ofSeconds(60));
            assertTrue(client.pingWithin(mesh.overlayOf(exit), Duration.ofSeconds(60)), clientNode.output());
            assertEquals("203.0.113.50", transfer(client, web, 7201), "the web sees the exit node's address");
            assertTrue(client.pingWithin(mesh.overlayOf(peer), Duration.ofSeconds(60)),
                    "the tunnel to another peer keeps working");
            String status = status(mesh, client);
            assertTrue(status.contains("exit node: exit\n"), status);
            assertFalse(status.contains("control: "), "control stays reachable:\n" + status);

            down(mesh, client);
            String rules = client.exec("ip", "rule").stdout();
            assertFalse(rules.contains("5280") || rules.contains("lookup main") && rules.contains("5270"), rules);
            assertEquals(c.publicAddress(), transfer(client, web, 7202), "after node down: the original path");
        }
    }

    /** Sends a checked TCP stream from {@code from} to {@code to}; answers the source address {@code to} saw. */
    private static String transfer(Host from, Host to, int port) {
        LabProcess sink = to.java(TcpTransfer.class, "--listen", Integer.toString(port));
        try {
            sink.awaitOutput(Pattern.compile("listening"), Duration.ofSeconds(30));
            ExecResult sent = from.javaExec(Duration.ofSeconds(120), TcpTransfer.class.getName(),
                    "--connect", to.address() + ":" + port, "--bytes", Integer.toString(4 << 20), "--seed", "3");
            assertEquals(0, sent.exitCode(), sent.describe());
            Matcher received = sink.awaitOutput(Pattern.compile("bytes=\\d+ sha256=[0-9a-f]+"),
                    Duration.ofSeconds(60));
            assertEquals(sent.stdout().strip(), received.group(), "the stream arrived intact");
            Matcher source = FROM.matcher(sink.output());
            assertTrue(source.find(), sink.output());
            return source.group(1);
        } finally {
            sink.stop();
        }
    }

    private static String status(LabMesh mesh, Host host) {
        ExecResult status = host.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                "--state", mesh.state(host).toString());
        assertEquals(0, status.exitCode(), status.describe());
        return status.stdout();
    }

    private static void down(LabMesh mesh, Host host) {
        ExecResult down = host.javaExec(Duration.ofSeconds(60), NodeDownCommand.class.getName(),
                "--state", mesh.state(host).toString());
        assertEquals(0, down.exitCode(), down.describe());
        // node down returns once the agent was asked; it undoes its changes as it stops.
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && java.nio.file.Files.exists(mesh.state(host).resolve("routing.json"))) {
            sleep(200);
        }
        sleep(1000);
    }

    /** SIGKILL to the node and every process under it: it stops without undoing anything. */
    private static void kill(LabProcess process) {
        ProcessHandle.of(process.pid()).ifPresent(handle -> {
            handle.descendants().forEach(ProcessHandle::destroyForcibly);
            handle.destroyForcibly();
        });
    }

    private static String sysctl(Host host, String name) {
        return host.exec("cat", "/proc/sys/" + name).stdout().strip();
    }

    private static int count(String text, String needle) {
        int count = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            count++;
        }
        return count;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
