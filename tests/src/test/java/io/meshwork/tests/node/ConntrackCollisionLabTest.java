package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.Site;
import io.meshwork.node.local.LocalApiClient;
import io.meshwork.node.local.NodeStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Two nodes behind Linux gateways whose input chains accept ({@link NatKind#INPUT_ACCEPTING}, each behind a provider
 * router of its own), with endpoint-independent NAT on both: the conntrack collision (docs/architecture.md, "Paths").
 * First the collision is made by hand and read in the gateways' conntrack tables: a datagram from one side to the
 * other gateway leaves an entry there, and the other side's own datagram to the first then leaves from another
 * port. Then the tables are flushed and two nodes start on those ports; they meet the collision by themselves (the
 * first probe to arrive at a gateway leaves a local entry there), suspect it, say so in their status (reason and
 * what was tried), take turns and must go direct within 60 s of both being up. Prints the time to direct;
 * {@code -Dmeshwork.collision.runs=5} repeats it and prints the p50 (docs/performance.md). To save lab time the
 * gateways forget unreplied UDP after 10 s and the nodes wait 15 s ({@link QuickCollisionLab});
 * {@code -Dmeshwork.collision.linux-timeouts=true} keeps Linux's 30 s and the nodes' 35 s.
 */
class ConntrackCollisionLabTest {

    private static final int PORT = 51820;
    private static final Pattern REPLY_DPORT = Pattern.compile("src=(\\S+) dst=(\\S+) sport=(\\d+) dport=(\\d+)");

    @Test
    void twoInputAcceptingGatewaysGoDirectWithinAMinute() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl", "conntrack", "ping");
        int runs = Integer.getInteger("meshwork.collision.runs", 1);
        List<Double> seconds = new ArrayList<>();
        for (int run = 0; run < runs; run++) {
            seconds.add(oneRun(run));
        }
        List<Double> sorted = new ArrayList<>(seconds);
        sorted.sort(null);
        System.out.printf(Locale.ROOT, "conntrack collision lab: time to direct over %d run(s): %s; p50 %.1f s%n", runs, seconds, sorted.get((sorted.size() - 1) / 2));
    }

    private static double oneRun(int run) throws Exception {
        try (Lab lab = Lab.create("mwcol", Boolean.getBoolean("meshwork.lab.keep")
                ? Lab.WorkDirectory.KEEP : Lab.WorkDirectory.REMOVE)) {
            LabMesh mesh = LabMesh.start(lab);
            Site dock = lab.site("dock", NatKind.INPUT_ACCEPTING);
            Site cloud = lab.site("cloud", NatKind.INPUT_ACCEPTING);
            Host left = dock.host("left");
            Host right = cloud.host("right");

            // One hop beyond each such gateway: TTL 2 passes the gateway and dies at the provider router.
            ExecResult limited = left.exec("ping", "-c", "1", "-W", "2", "-t", "2", cloud.publicAddress());
            assertTrue(!limited.succeeded() && limited.stdout().contains("Time to live exceeded"), limited.describe());
            assertTrue(left.ping(cloud.publicAddress(), 1), "full TTL reaches the other gateway");

            // The collision by hand: left's datagram reaches cloud's gateway first and is delivered to it ...
            left.javaExec(Duration.ofSeconds(30), UdpSendCommand.class, String.valueOf(PORT), cloud.publicAddress(),
                    String.valueOf(PORT)).orThrow();
            // ... so right's own first datagram to left's mapped port leaves from another port.
            right.javaExec(Duration.ofSeconds(30), UdpSendCommand.class, String.valueOf(PORT), dock.publicAddress(),
                    String.valueOf(PORT)).orThrow();
            int displaced = replyPort(cloud, right.address(), dock.publicAddress());
            System.out.printf("conntrack collision lab (run %d): %s's datagram to %s:%d left %s from port %d%n", run,
                    right.name(), dock.publicAddress(), PORT, cloud.publicAddress(), displaced);
            if (run == 0) {
                assertTrue(displaced != PORT, "the collision moved right's mapping off port " + PORT);
            }
            // Linux then reuses the displaced port for that socket's later flows too (its NAT looks symmetric to
            // STUN); the nodes start from clean tables and meet the collision by themselves.
            dock.gateway().exec("conntrack", "-F").orThrow();
            cloud.gateway().exec("conntrack", "-F").orThrow();

            // Lab time: the gateways forget unreplied entries after 10 s and the nodes wait 15 s (QuickCollisionLab).
            QuickCollisionLab quick = Boolean.getBoolean("meshwork.collision.linux-timeouts") ? null
                    : QuickCollisionLab.on(dock, cloud);
            CompletableFuture<Void> leftUp = CompletableFuture.runAsync(() -> mesh.startNode(left, "mwcol0",
                    Duration.ofSeconds(30), "--listen-port", String.valueOf(PORT)));
            CompletableFuture<Void> rightUp = CompletableFuture.runAsync(() -> mesh.startNode(right, "mwcol1",
                    Duration.ofSeconds(30), "--listen-port", String.valueOf(PORT)));
            try {
                CompletableFuture.allOf(leftUp, rightUp).join();
            } finally {
                if (quick != null) {
                    quick.close();
                }
            }
            long bothUp = System.nanoTime();

            String suspected = null;
            List<String> tried = List.of();
            long direct = -1;
            boolean dumped = false;
            long deadline = bothUp + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() < deadline && direct < 0) {
                NodeStatus.Peer leftPeer = peer(mesh.state(left));
                NodeStatus.Peer rightPeer = peer(mesh.state(right));
                for (NodeStatus.Peer peer : new NodeStatus.Peer[] {leftPeer, rightPeer}) {
                    if (peer != null && peer.reason().contains("conntrack collision suspected") && suspected == null) {
                        suspected = peer.reason();
                        tried = peer.tried();
                    }
                }
                if (!dumped && Boolean.getBoolean("meshwork.collision.dump") && (opened(leftPeer) || opened(rightPeer))) {
                    dumped = true;
                    Thread.sleep(1500);
                    for (Site site : List.of(dock, cloud)) {
                        System.out.println("conntrack collision lab: " + site.name() + "'s gateway after the opening:\n"
                                + site.gateway().exec("conntrack", "-L", "-p", "udp").stdout());
                    }
                }
                if (leftPeer != null && rightPeer != null && leftPeer.path().equals("direct")
                        && rightPeer.path().equals("direct")) {
                    direct = System.nanoTime();
                }
                Thread.sleep(100);
            }
            double took = direct < 0 ? Double.NaN : (direct - bothUp) / 1e9;
            System.out.printf(Locale.ROOT, "conntrack collision lab (run %d): direct %.1f s after both nodes were up;"
                    + " while relayed: %s; tried: %s%n", run, took, suspected, tried);
            assertTrue(direct > 0 && took <= 60, "direct within 60 s of both nodes up (took " + took + " s)");
            if (suspected != null) {
                assertTrue(tried.stream().anyMatch(line -> line.startsWith("direct probes to ")
                        && line.contains("conntrack collision")), tried.toString());
                assertTrue(tried.stream().anyMatch(line -> line.startsWith("port mapping: ")), tried.toString());
            }
            assertTrue(left.pingWithin(mesh.overlayOf(right), Duration.ofSeconds(10)), "traffic flows");
            return took;
        }
    }

    /** The external port of the gateway's conntrack entry for {@code inside}:PORT → {@code peer}:PORT. */
    private static int replyPort(Site site, String inside, String peer) {
        ExecResult table = site.gateway().exec("conntrack", "-L", "-p", "udp", "--orig-src", inside, "--orig-dst", peer);
        assertEquals(0, table.exitCode(), table.describe());
        for (String line : table.stdout().lines().toList()) {
            Matcher tuples = REPLY_DPORT.matcher(line);
            if (tuples.find() && tuples.find()) {
                return Integer.parseInt(tuples.group(4));
            }
        }
        throw new AssertionError("no conntrack entry for " + inside + " -> " + peer + ":\n" + table.stdout());
    }

    private static boolean opened(NodeStatus.Peer peer) {
        return peer != null && peer.reason().contains("opened its mapping first");
    }

    private static NodeStatus.Peer peer(Path state) {
        try {
            NodeStatus status = new LocalApiClient(state).status();
            return status.peers().isEmpty() ? null : status.peers().get(0);
        } catch (LocalApiClient.LocalApiException e) {
            return null;
        }
    }
}
