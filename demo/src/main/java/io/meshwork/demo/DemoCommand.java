package io.meshwork.demo;

import io.meshwork.demo.simulated.SimulatedDemo;
import io.meshwork.demo.simulated.Terminal;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.LabSupport;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.Site;
import io.meshwork.node.local.LocalApiClient;
import io.meshwork.node.local.NodeStatus;
import io.meshwork.protocol.dns.DnsNames;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshwork demo}: the whole system on one machine. Network namespaces with NAT gateways of different
 * kinds, control (embedded H2) and a relay with its STUN server on the lab internet, a node in each site; a live
 * table of every node's view of its peers, pings across the overlay, and a summary. Everything is torn down at
 * the end or on Ctrl-C, the working directory (logs, every node's state and private keys) included, unless
 * {@code --keep}: then the mesh runs until Ctrl-C and the directory stays. Where network namespaces cannot be made
 * (not root, not Linux), or with {@code --simulate}, it runs the same sites on the in-JVM NAT simulation instead
 * ({@link SimulatedDemo}).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run a whole mesh on this machine, in network namespaces (needs root).",
            "Control, a relay and nodes behind different NATs; shows each pair's path live, pings across the",
            "overlay, then tears everything down. Without root (or with --simulate) it runs the same sites on",
            "the in-JVM NAT simulation, on a virtual clock, and sends data both ways between every pair."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every pair reached each other (directly or through the relay)", "1:a pair failed"})
public final class DemoCommand implements Callable<Integer> {

    /** Virtual time per frame of the simulation's live view. */
    private static final Duration SIMULATION_FRAME = Duration.ofMillis(250);
    /** The simulation's pace on a terminal: slow enough to watch, fast enough not to wait long. */
    private static final double TERMINAL_SPEED = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--keep", description = "Leave the mesh running after the summary, until Ctrl-C, and keep its "
            + "working directory (logs, every node's state) afterwards.")
    boolean keep;

    @Option(names = "--settle", paramLabel = "SECONDS", defaultValue = "25",
            description = "How long to watch paths form before pinging; virtual seconds on the simulation (default: 25).")
    int settleSeconds;

    @Option(names = "--console-port", paramLabel = "PORT", defaultValue = "8443",
            description = "Where this machine's browser reaches the web console: https://127.0.0.1:PORT/ui/ "
                    + "(default: 8443; 0: any free port).")
    int consolePort;

    @Option(names = "--simulate", description = "Run on the in-JVM NAT simulation even where namespaces can be made.")
    boolean simulate;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "Simulation only: the seed that fixes every random choice of the run (default: 1).")
    long seed;

    @Option(names = "--speed", paramLabel = "FACTOR",
            description = {"Simulation only: virtual seconds per real second; 0 runs as fast as it goes",
                "(default: 2 on a terminal, 0 otherwise)."})
    Double speed;

    private final PrintStream out = System.out;

    /** A node of the demo: where it runs and what it is for. */
    private record Node(String name, Host host, String site, NatKind nat, Path state, String ifname) {}

    @Override
    public Integer call() throws Exception {
        if (settleSeconds <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--settle must be positive: " + settleSeconds);
        }
        if (speed != null && !(speed >= 0 && speed < Double.POSITIVE_INFINITY)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--speed must be 0 or more: " + speed);
        }
        String why = simulate ? "--simulate given" : LabSupport.unavailableReason();
        if (why != null) {
            return simulated(simulate ? why : "no network lab here: " + why);
        }
        step("building the lab: an internet and four sites behind NAT gateways");
        try (Lab lab = Lab.create("mwdemo", keep ? Lab.WorkDirectory.KEEP : Lab.WorkDirectory.REMOVE)) {
            if (keep) {
                step("working directory (logs, every node's state; kept after the demo): " + lab.directory());
            }
            step("starting control (embedded H2) and a relay with an RFC 5780 STUN server on 203.0.113.10 and .11");
            LabMesh mesh = LabMesh.start(lab);
            ConsoleBridge console = openConsole(lab, mesh);
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
                // Each host's resolver library asks the node's resolver (its own /etc/netns resolv.conf, never the
                // machine's), so the pings below go by name.
                node.host().ownResolvConf("# the demo host's own resolv.conf\n");
                mesh.startNode(node.host(), node.ifname(), Duration.ofSeconds(10), "--dns", "resolvconf");
            }

            watch(nodes, Duration.ofSeconds(settleSeconds));
            int failures = pingAll(mesh, nodes);
            if (keep) {
                out.println();
                out.println("The mesh keeps running (Ctrl-C ends it and removes everything but " + lab.directory()
                        + "). Try:");
                Node first = nodes.get(0);
                out.println("  ip netns exec " + first.host().namespace() + " bin/meshwork status --state " + first.state());
                out.println("  ip netns exec " + first.host().namespace() + " wg show " + first.ifname());
                out.println("  ip netns exec " + mesh.hub().namespace() + " curl --cacert "
                        + LabMesh.controlCertificate(lab) + " -H 'Authorization: Bearer " + LabMesh.ADMIN_TOKEN + "' "
                        + LabMesh.CONTROL_URL + "/api/v1/organizations/" + mesh.organizationId() + "/devices");
                out.println("  (control's certificate pin: " + mesh.controlPin() + ")");
                if (console != null) {
                    out.println("  the web console's mesh map stays live: " + console.loginLink(mesh)
                            + " (a new one-time link)");
                }
                Thread.currentThread().join();
            }
            return failures == 0 ? 0 : 1;
        } finally {
            step(keep
                    ? "torn down: no namespace, interface or process of the demo is left; its working directory stays"
                    : "torn down: no namespace, interface, process or file of the demo is left");
        }
    }

    /**
     * Brings the web console to this machine's loopback and prints a one-time login link to it: its map shows the
     * paths the nodes report, live, while the demo runs. The demo goes on without it when it cannot be had.
     */
    private ConsoleBridge openConsole(Lab lab, LabMesh mesh) {
        try {
            ConsoleBridge console = ConsoleBridge.open(mesh.hub(), lab.directory(), LabMesh.CONTROL_IP + ":8080",
                    consolePort);
            step("web console (its map shows the paths as they form): " + console.loginLink(mesh));
            step("  a one-time link, valid 5 minutes; the browser will warn of control's self-signed certificate "
                    + "(pin " + mesh.controlPin() + ")");
            return console;
        } catch (IOException | RuntimeException e) {
            step("no web console this time: " + e.getMessage());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private int simulated(String why) throws InterruptedException {
        step(why + "; running the same scenario on the in-JVM NAT simulation (no control runs in it, so no web "
                + "console either)");
        if (keep) {
            step("--keep does not apply: the simulation ends with its summary");
        }
        Terminal terminal = Terminal.detect();
        double virtualPerReal = speed != null ? speed : terminal.interactive() ? TERMINAL_SPEED : 0;
        SimulatedDemo.Options options = new SimulatedDemo.Options(seed, Duration.ofSeconds(settleSeconds),
                SIMULATION_FRAME, virtualPerReal, terminal);
        return new SimulatedDemo(options, out).run().exitCode();
    }

    private static String describe(NatKind kind) {
        return switch (kind) {
            case ENDPOINT_INDEPENDENT -> "endpoint-independent NAT";
            case SYMMETRIC -> "symmetric NAT";
            case UDP_BLOCKED -> "UDP blocked";
            case INPUT_ACCEPTING -> "endpoint-independent NAT accepting input";
        };
    }

    /**
     * Shows each node's view of its peers for {@code duration}, polling once a second: one table redrawn in place
     * on a terminal, one line per path change otherwise ({@link PathWatch}).
     */
    private void watch(List<Node> nodes, Duration duration) throws InterruptedException {
        PathWatch view = new PathWatch(out, Terminal.detect());
        view.begin(duration);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        while (System.nanoTime() < end) {
            view.show(Duration.ofNanos(System.nanoTime() - start), Duration.ofNanos(end - System.nanoTime()),
                    paths(nodes));
            Thread.sleep(1000);
        }
        view.end(duration);
    }

    private static List<PathWatch.PeerPath> paths(List<Node> nodes) {
        List<PathWatch.PeerPath> paths = new ArrayList<>();
        for (Node node : nodes) {
            NodeStatus status;
            try {
                status = new LocalApiClient(node.state()).status();
            } catch (LocalApiClient.LocalApiException e) {
                paths.add(new PathWatch.PeerPath(node.name(), "-", "not answering", e.getMessage()));
                continue;
            }
            for (NodeStatus.Peer peer : status.peers()) {
                paths.add(new PathWatch.PeerPath(node.name(), peer.hostname(), describe(peer), peer.reason()));
            }
        }
        return paths;
    }

    /**
     * Pings every pair across the overlay by name ({@code NAME.meshwork.internal}, answered by the node's resolver)
     * and prints the summary; returns how many pairs got no reply.
     */
    private int pingAll(LabMesh mesh, List<Node> nodes) {
        Map<String, String> overlay = new LinkedHashMap<>();
        for (Node node : nodes) {
            overlay.put(node.name(), mesh.overlayOf(node.host()));
        }
        out.println();
        out.println("Pings across the overlay, by name:");
        int failures = 0;
        int direct = 0;
        int relayed = 0;
        for (Node from : nodes) {
            for (Node to : nodes) {
                if (from == to) {
                    continue;
                }
                String name = to.name() + "." + DnsNames.DEFAULT_DOMAIN;
                boolean reached = from.host().ping(name, 2);
                String path = pathOf(from, to.name());
                out.printf("  %-6s -> %-24s %-16s %s%n", from.name(), name, overlay.get(to.name()),
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
                    .map(DemoCommand::describe)
                    .findFirst().orElse("unknown peer");
        } catch (LocalApiClient.LocalApiException e) {
            return "agent not answering";
        }
    }

    /** "direct ENDPOINT", "relay NAME (TRANSPORT)" or "no path yet". */
    private static String describe(NodeStatus.Peer peer) {
        return switch (peer.path()) {
            case "direct" -> "direct " + peer.endpoint();
            case "relay" -> peer.relay() == null ? "relay" : "relay " + peer.relay() + " (" + peer.transport() + ")";
            default -> "no path yet";
        };
    }

    private void step(String text) {
        out.println("meshwork demo: " + text);
        out.flush();
    }
}
