package io.meshwork.tests.demo;

import io.meshwork.node.local.LocalApiClient;
import io.meshwork.node.local.NodeStatus;
import io.meshwork.tests.lab.Host;
import io.meshwork.tests.lab.Lab;
import io.meshwork.tests.lab.LabAssumptions;
import io.meshwork.tests.lab.LabMesh;
import io.meshwork.tests.lab.NatKind;
import io.meshwork.tests.lab.Site;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshwork demo}: the whole system on one machine. Network namespaces with NAT gateways of different
 * kinds, control (embedded H2) and a relay with its STUN server on the lab internet, a node in each site; a live
 * table of every node's view of its peers, pings across the overlay, and a summary. Everything is torn down at
 * the end or on Ctrl-C, unless {@code --keep}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run a whole mesh on this machine, in network namespaces (needs root).",
            "Control, a relay and nodes behind different NATs; shows each pair's path live, pings across the",
            "overlay, then tears everything down."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every pair reached each other (directly or through the relay)", "1:a pair failed",
            "2:cannot run here (not root)"})
public final class DemoCommand implements Callable<Integer> {


    @Option(names = "--keep", description = "Leave the mesh running after the summary, until Ctrl-C.")
    boolean keep;

    @Option(names = "--settle", paramLabel = "SECONDS", defaultValue = "25",
            description = "How long to watch paths form before pinging (default: 25).")
    int settleSeconds;

    private final PrintStream out = System.out;

    /** A node of the demo: where it runs and what it is for. */
    private record Node(String name, Host host, String site, NatKind nat, Path state, String ifname) {}

    @Override
    public Integer call() throws Exception {
        String why = LabAssumptions.whyLabUnavailable();
        if (why != null) {
            out.println("meshwork demo: cannot build the network lab here: " + why + ".");
            out.println("Run it as root on Linux (sudo bin/meshwork demo). The in-JVM simulation is not built yet.");
            return 2;
        }
        step("building the lab: an internet and four sites behind NAT gateways");
        try (Lab lab = Lab.create("mwdemo")) {
            step("starting control (embedded H2) and a relay with an RFC 5780 STUN server on 203.0.113.10 and .11");
            LabMesh mesh = LabMesh.start(lab);
            Site home = lab.site("home", NatKind.ENDPOINT_INDEPENDENT);
            Site office = lab.site("office", NatKind.ENDPOINT_INDEPENDENT);
            Site cafe = lab.site("cafe", NatKind.SYMMETRIC);
            Site guest = lab.site("guest", NatKind.UDP_BLOCKED);
            List<Node> nodes = new ArrayList<>();
            int index = 0;
            for (Object[] spec : new Object[][] {{"alice", home}, {"bob", home}, {"carol", office},
                    {"dave", cafe}, {"erin", guest}}) {
                Site site = (Site) spec[1];
                Host host = site.host((String) spec[0]);
                nodes.add(new Node(host.name(), host, site.name(), site.kind(), mesh.state(host), "mwdemo" + index++));
            }
            step("starting a node in each site: " + String.join(", ", nodes.stream()
                    .map(n -> n.name() + " (" + n.site() + ", " + describe(n.nat()) + ")").toList()));
            for (Node node : nodes) {
                mesh.startNode(node.host(), node.ifname(), Duration.ofSeconds(10));
            }

            watch(nodes, Duration.ofSeconds(settleSeconds));
            int failures = pingAll(mesh, nodes);
            if (keep) {
                out.println();
                out.println("The mesh keeps running (Ctrl-C ends it and removes everything). Try:");
                Node first = nodes.get(0);
                out.println("  ip netns exec " + first.host().namespace() + " bin/meshwork status --state " + first.state());
                out.println("  ip netns exec " + first.host().namespace() + " wg show " + first.ifname());
                out.println("  ip netns exec " + mesh.hub().namespace() + " curl -H 'Authorization: Bearer "
                        + LabMesh.ADMIN_TOKEN + "' http://203.0.113.10:8080/api/v1/organizations/"
                        + mesh.organizationId() + "/devices");
                Thread.currentThread().join();
            }
            return failures == 0 ? 0 : 1;
        } finally {
            step("torn down: no namespace, interface or process of the demo is left");
        }
    }

    private static String describe(NatKind kind) {
        return switch (kind) {
            case ENDPOINT_INDEPENDENT -> "endpoint-independent NAT";
            case SYMMETRIC -> "symmetric NAT";
            case UDP_BLOCKED -> "UDP blocked";
        };
    }

    /** Prints each node's view of its peers, redrawn in place on a terminal, as lines otherwise. */
    private void watch(List<Node> nodes, Duration duration) throws InterruptedException {
        boolean terminal = System.console() != null;
        long end = System.nanoTime() + duration.toNanos();
        String last = "";
        while (System.nanoTime() < end) {
            String table = table(nodes);
            if (terminal) {
                out.print("\033[H\033[2J");
                out.print(table);
                out.printf("(watching for %d s more)%n", (end - System.nanoTime()) / 1_000_000_000L);
            } else if (!table.equals(last)) {
                out.print(table);
                out.println();
            }
            last = table;
            out.flush();
            Thread.sleep(1000);
        }
        if (terminal) {
            out.print(last);
        }
    }

    private String table(List<Node> nodes) {
        StringBuilder text = new StringBuilder(String.format("%-7s %-7s %-22s %-28s %s%n", "NODE", "PEER", "PATH",
                "ENDPOINT", "WHY"));
        for (Node node : nodes) {
            NodeStatus status;
            try {
                status = new LocalApiClient(node.state()).status();
            } catch (LocalApiClient.LocalApiException e) {
                text.append(String.format("%-7s %s%n", node.name(), "(not answering: " + e.getMessage() + ")"));
                continue;
            }
            for (NodeStatus.Peer peer : status.peers()) {
                text.append(String.format("%-7s %-7s %-22s %-28s %s%n", node.name(), peer.hostname(), peer.path(),
                        peer.endpoint() == null ? "-" : peer.endpoint(), peer.reason()));
            }
        }
        return text.toString();
    }

    /** Pings every pair across the overlay and prints the summary; returns how many pairs got no reply. */
    private int pingAll(LabMesh mesh, List<Node> nodes) {
        Map<String, String> overlay = new LinkedHashMap<>();
        for (Node node : nodes) {
            overlay.put(node.name(), mesh.overlayOf(node.host()));
        }
        out.println();
        out.println("Pings across the overlay:");
        int failures = 0;
        int direct = 0;
        int relayed = 0;
        for (Node from : nodes) {
            for (Node to : nodes) {
                if (from == to) {
                    continue;
                }
                boolean reached = from.host().ping(overlay.get(to.name()), 2);
                String path = pathOf(from, to.name());
                out.printf("  %-6s -> %-6s %-16s %s%n", from.name(), to.name(), overlay.get(to.name()),
                        reached ? "reply via " + path : "NO REPLY (" + path + ")");
                if (!reached) {
                    failures++;
                } else if (path.startsWith("relay")) {
                    relayed++;
                } else {
                    direct++;
                }
            }
        }
        out.printf("Summary: %d directions direct, %d through the relay, %d without reply.%n", direct, relayed, failures);
        return failures;
    }

    private static String pathOf(Node from, String peerName) {
        try {
            return new LocalApiClient(from.state()).status().peers().stream()
                    .filter(peer -> peer.hostname().equals(peerName))
                    .map(peer -> switch (peer.path()) {
                        case "direct" -> "direct " + peer.endpoint();
                        case "relay" -> "relay " + peer.relay() + " (" + peer.transport() + ")";
                        default -> "no path yet";
                    })
                    .findFirst().orElse("unknown peer");
        } catch (LocalApiClient.LocalApiException e) {
            return "agent not answering";
        }
    }

    private void step(String text) {
        out.println("meshwork demo: " + text);
        out.flush();
    }
}
