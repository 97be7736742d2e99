package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.LabProcess;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.Site;
import io.meshwork.node.local.LocalApiClient;
import io.meshwork.node.local.NodeStatus;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.IpLiteral;
import java.net.Inet6Address;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * IPv6 paths (docs/architecture.md, "IPv6 paths"): three sites behind symmetric NATs (a random port per
 * destination, so IPv4 alone is relayed) that also have routed IPv6 behind a stateful firewall admitting only
 * replies ({@link Lab.Ipv6#ROUTED}). Two hosts with IPv6 must go direct over it, both sides' status showing the
 * other's IPv6 endpoint; a third host with IPv6 turned off stays relayed with both, its status saying it has no
 * global IPv6 address and its peers' saying it reported none. Prints the time to direct from both nodes up;
 * {@code -Dmeshwork.ipv6.runs=5} repeats the first case with a new pair of hosts each time, in the same lab, and
 * prints the p50 (docs/performance.md).
 */
class Ipv6PathLabTest {

    @Test
    void symmetricNatSitesGoDirectOverIpv6AndAHostWithoutIpv6StaysRelayed() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl", "ping", "ip6tables");
        int runs = Integer.getInteger("meshwork.ipv6.runs", 1);
        try (Lab lab = Lab.create("mwv6", Boolean.getBoolean("meshwork.lab.keep")
                ? Lab.WorkDirectory.KEEP : Lab.WorkDirectory.REMOVE)) {
            LabMesh mesh = LabMesh.startWithIpv6(lab);
            Site east = lab.site("east", NatKind.SYMMETRIC, Lab.Ipv6.ROUTED);
            Site west = lab.site("west", NatKind.SYMMETRIC, Lab.Ipv6.ROUTED);
            List<Double> seconds = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                // Each run a new pair of hosts (new devices): the last pair stays up for the second case.
                Host left = east.host("left" + run);
                Host right = west.host("right" + run);
                if (run == 0) {
                    checkTheSites(east, left, right);
                }
                int attempt = run;
                List<LabProcess> nodes = new CopyOnWriteArrayList<>();
                CompletableFuture<Void> leftUp = CompletableFuture.runAsync(() -> nodes.add(
                        mesh.startNode(left, "mwv6l" + attempt, Duration.ofSeconds(30), "--dns", "off")));
                CompletableFuture<Void> rightUp = CompletableFuture.runAsync(() -> nodes.add(
                        mesh.startNode(right, "mwv6r" + attempt, Duration.ofSeconds(30), "--dns", "off")));
                CompletableFuture.allOf(leftUp, rightUp).join();
                seconds.add(timeToDirect(mesh, run, left, right));
                if (run < runs - 1) {
                    nodes.forEach(LabProcess::stop);
                } else {
                    theSecondCase(lab, mesh, left, right);
                }
            }
            List<Double> sorted = new ArrayList<>(seconds);
            sorted.sort(null);
            System.out.printf(Locale.ROOT, "ipv6 lab: time to direct over IPv6 across two symmetric NATs, %d run(s): "
                    + "%s; p50 %.1f s%n", runs, seconds, sorted.get((sorted.size() - 1) / 2));
        }
    }

    /** The lab as the test needs it: private IPv4 LANs, firewalled IPv6, the hub reachable over IPv6. */
    private static void checkTheSites(Site east, Host left, Host right) {
        assertNotNull(left.ipv6Address());
        assertNotNull(right.ipv6Address());
        assertFalse(left.ping(right.address(), 1), "IPv4 between the LANs is private");
        assertFalse(left.ping(right.ipv6Address(), 1), "new inbound IPv6 is dropped at the other gateway");
        assertTrue(left.ping(east.gateway().ipv6Address(), 1), "the LAN reaches its gateway over IPv6");
        assertTrue(left.ping(LabMesh.CONTROL_IPV6, 1), "the LAN reaches the hub over IPv6");
    }

    /** Waits for both sides direct over IPv6 (45 s at most) and returns the seconds it took from both nodes up. */
    private static double timeToDirect(LabMesh mesh, int run, Host left, Host right) throws Exception {
        long bothUp = System.nanoTime();
        long direct = -1;
        NodeStatus.Peer leftSees = null;
        NodeStatus.Peer rightSees = null;
        long deadline = bothUp + Duration.ofSeconds(45).toNanos();
        while (System.nanoTime() < deadline && direct < 0) {
            leftSees = peer(mesh.state(left), right.name());
            rightSees = peer(mesh.state(right), left.name());
            if (leftSees != null && rightSees != null && leftSees.path().equals("direct")
                    && rightSees.path().equals("direct")) {
                direct = System.nanoTime();
            }
            Thread.sleep(100);
        }
        double took = direct < 0 ? Double.NaN : (direct - bothUp) / 1e9;
        System.out.printf(Locale.ROOT, "ipv6 lab (run %d): direct %.1f s after both nodes were up; %s sees %s,"
                + " %s sees %s%n", run, took, left.name(), describe(leftSees), right.name(), describe(rightSees));
        assertTrue(direct > 0, "direct over IPv6 within 45 s: " + describe(leftSees) + " / " + describe(rightSees));
        assertEquals(IpLiteral.format(IpLiteral.parse(right.ipv6Address())),
                IpLiteral.format(HostPort.parseEndpoint(leftSees.endpoint()).getAddress()), "left sends to right's IPv6");
        assertEquals(IpLiteral.format(IpLiteral.parse(left.ipv6Address())),
                IpLiteral.format(HostPort.parseEndpoint(rightSees.endpoint()).getAddress()), "right sends to left's IPv6");
        assertTrue(leftSees.reason().contains("IPv6 endpoint"), leftSees.reason());
        // STUN over IPv6: the relay's --stun6 server saw the node's IPv6 endpoint, which it reported to control.
        java.util.regex.Pattern reflexive = java.util.regex.Pattern.compile(".*\\[" + java.util.regex.Pattern.quote(
                IpLiteral.format(IpLiteral.parse(left.ipv6Address()))) + "\\]:\\d+\",\"source\":\"stun\".*");
        String endpoints = "";
        long patience = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        do {
            endpoints = mesh.api("GET", "/api/v1/devices/" + mesh.deviceIdOf(left), null).get("endpoints").toString();
        } while (!reflexive.matcher(endpoints).matches() && System.nanoTime() < patience && sleep());
        System.out.printf("ipv6 lab (run %d): %s reported %s%n", run, left.name(), endpoints);
        assertTrue(reflexive.matcher(endpoints).matches(), "the IPv6 reflexive endpoint is reported: " + endpoints);
        assertTrue(left.pingWithin(mesh.overlayOf(right), Duration.ofSeconds(10)), "traffic flows");
        return took;
    }

    /** A host with IPv6 turned off on a third such site: relayed with the IPv6 pair, and the statuses say why. */
    private static void theSecondCase(Lab lab, LabMesh mesh, Host left, Host right) throws Exception {
        Site north = lab.site("north", NatKind.SYMMETRIC, Lab.Ipv6.ROUTED);
        Host third = north.host("third").withoutIpv6();
        mesh.startNode(third, "mwv6t", Duration.ofSeconds(30), "--dns", "off");
        NodeStatus.Peer thirdSees = null;
        NodeStatus.Peer leftSeesThird = null;
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < until) {
            thirdSees = peer(mesh.state(third), left.name());
            leftSeesThird = peer(mesh.state(left), third.name());
            if (thirdSees != null && leftSeesThird != null && !thirdSees.tried().isEmpty()
                    && !leftSeesThird.tried().isEmpty() && reachedRelay(thirdSees) && reachedRelay(leftSeesThird)) {
                break;
            }
            Thread.sleep(200);
        }
        System.out.printf("ipv6 lab: %s without IPv6 sees %s; %s sees it as %s%n", third.name(),
                describe(thirdSees), left.name(), describe(leftSeesThird));
        assertNotNull(thirdSees);
        assertNotNull(leftSeesThird);
        assertEquals("relay", thirdSees.path(), describe(thirdSees));
        assertEquals("relay", leftSeesThird.path(), describe(leftSeesThird));
        assertTrue(thirdSees.tried().contains("IPv6: no global IPv6 address here"), thirdSees.tried().toString());
        assertTrue(leftSeesThird.tried().contains("IPv6: the peer reported no global IPv6 address"),
                leftSeesThird.tried().toString());
        assertTrue(third.pingWithin(mesh.overlayOf(left), Duration.ofSeconds(10)), "relayed traffic flows");
        assertEquals("direct", peer(mesh.state(left), right.name()).path(), "the IPv6 pair stays direct meanwhile");
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(500);
        return true;
    }

    private static boolean reachedRelay(NodeStatus.Peer peer) {
        return peer.path().equals("relay");
    }

    private static String describe(NodeStatus.Peer peer) {
        return peer == null ? "no peer yet" : peer.path() + " " + peer.endpoint() + " (" + peer.reason() + "; tried "
                + peer.tried() + ")";
    }

    private static NodeStatus.Peer peer(Path state, String hostname) {
        try {
            return new LocalApiClient(state).status().peers().stream()
                    .filter(peer -> hostname.equals(peer.hostname())).findFirst().orElse(null);
        } catch (LocalApiClient.LocalApiException e) {
            return null;
        }
    }
}
