package io.meshwork.node.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.meshwork.node.agent.NodeIdentity;
import io.meshwork.node.netcheck.NatProber;
import io.meshwork.node.netcheck.NetcheckReportFormat;
import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.node.portmap.PortMapProbe;
import io.meshwork.node.relay.RelayLatencyProbe;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.node.transport.TransportException;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshwork netcheck}: what NAT is this host behind? */
@Command(
        name = "netcheck",
        mixinStandardHelpOptions = true,
        description = {
            "Report the NAT in front of this machine, probing STUN servers from one UDP socket.",
            "It reports UDP reachability,",
            "public endpoints, mapping and filtering behaviour (RFC 4787/5780), port preservation, hairpinning",
            "and the classic name (open, full cone, restricted cone, port-restricted cone, symmetric, blocked).",
            "Filtering is measured only against a server with two IPs (RFC 5780), listed first ideally.",
            "It also reports which port-mapping protocols (PCP, NAT-PMP, UPnP-IGD) the default gateway answers,",
            "without asking it for a mapping, and the round trip to every relay control handed this node (from",
            "--state: STUN on the relay's port, a TCP connection where UDP gets no answer), marking the one it",
            "would make its home relay.",
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:a report was produced",
            "1:no STUN server answered: UDP blocked or the servers unreachable (the report says so)",
            "2:usage error: bad option, bad or unresolvable address, no servers configured",
        })
public final class NetcheckCommand implements Callable<Integer> {

    public static final int EXIT_REPORT = 0;
    public static final int EXIT_NO_ANSWER = 1;
    public static final int EXIT_USAGE = 2;

    private static final Duration MAX_TIMEOUT = Duration.ofMinutes(2);
    /** How long each port-mapping question waits for the gateway. */
    private static final Duration PORT_MAPPING_TIMEOUT = Duration.ofMillis(500);
    private static final String SERVERS_KEY = "meshwork.netcheck.stun-servers";
    private static final String TIMEOUT_KEY = "meshwork.netcheck.timeout";

    @Spec
    CommandSpec spec;

    @Option(names = "--stun", paramLabel = "HOST:PORT",
            description = {"A STUN server (repeatable; port defaults to 3478). Default: " + SERVERS_KEY + " from config,",
                "else the STUN servers control handed this node (its relays'), from --state."})
    List<String> stunServers = new ArrayList<>();

    @Mixin
    StateDirectoryOption state = new StateDirectoryOption();

    @Option(names = "--json", description = "Print a JSON document instead of the readable report.")
    boolean json;

    @Option(names = "--timeout", paramLabel = "DURATION",
            description = "Longest the whole check may take, e.g. 5s, 1500ms, PT3S. Default: " + TIMEOUT_KEY + " (5s).")
    String timeout;

    @Option(names = "--no-port-mapping", description = "Do not ask the default gateway which port-mapping "
            + "protocols it speaks.")
    boolean noPortMapping;

    @Option(names = "--no-relays", description = "Do not measure the relays control handed this node.")
    boolean noRelays;

    @Option(names = "--bind", paramLabel = "IP:PORT", defaultValue = "0.0.0.0:0",
            description = "Local address of the probing socket. Default: ${DEFAULT-VALUE}.")
    String bind;

    private final Supplier<Config> config;

    /** Reads configuration the usual way: reference.conf, application.conf, system properties. */
    public NetcheckCommand() {
        this(ConfigFactory::load);
    }

    /** With the given configuration, for embedding and tests. */
    public NetcheckCommand(Supplier<Config> config) {
        this.config = config;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<InetSocketAddress> servers;
        Duration budget;
        InetSocketAddress bindAddress;
        try {
            budget = timeout != null ? parseDuration(timeout) : configuredTimeout();
            servers = resolveServers();
            bindAddress = parseBind();
        } catch (UsageException e) {
            err.println("meshwork netcheck: " + e.getMessage());
            return EXIT_USAGE;
        }
        NetcheckResult result;
        // The gateway is asked while STUN runs, within the same budget.
        Duration gatewayTimeout = budget.compareTo(PORT_MAPPING_TIMEOUT) < 0 ? budget : PORT_MAPPING_TIMEOUT;
        CompletableFuture<Optional<PortMapProbe.Answers>> portMapping = noPortMapping ? null
                : CompletableFuture.supplyAsync(() -> PortMapProbe.probe(gatewayTimeout));
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "netcheck-timers");
            thread.setDaemon(true);
            return thread;
        });
        List<RelayInfo> relays = noRelays ? List.of() : relaysFromNodeState();
        // The relays are measured while STUN runs, from a socket of their own.
        CompletableFuture<Map<String, Duration>> relayLatencies = relays.isEmpty()
                ? CompletableFuture.completedFuture(Map.of()) : measureRelays(relays, scheduler);
        try (NettyUdpTransport transport = NettyUdpTransport.bind(bindAddress);
             NatProber prober = new NatProber(transport, scheduler)) {
            // The probe ends on its own within the budget; the margin only guards against a stuck runtime.
            result = prober.probe(servers, budget).get(budget.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (TransportException e) {
            err.println("meshwork netcheck: " + e.getMessage());
            return EXIT_USAGE;
        } catch (ExecutionException | TimeoutException e) {
            err.println("meshwork netcheck: the probe failed: " + e);
            return EXIT_NO_ANSWER;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("meshwork netcheck: interrupted");
            return EXIT_NO_ANSWER;
        } finally {
            // The relays' measurement may still run on it: it ends within its own timeout.
            relayLatencies.whenComplete((done, failure) -> scheduler.shutdownNow());
        }
        Map<String, Duration> latencies = relayLatencies.join();
        String report;
        if (portMapping == null) {
            report = json ? NetcheckReportFormat.json(result) : NetcheckReportFormat.text(result);
        } else {
            Optional<PortMapProbe.Answers> answers = portMapping.join();
            report = json ? NetcheckReportFormat.json(result, answers) : NetcheckReportFormat.text(result, answers);
        }
        out.print(json ? NetcheckReportFormat.json(report, relays, latencies) + System.lineSeparator()
                : report + NetcheckReportFormat.relaysText(relays, latencies));
        out.flush();
        if (!result.report().udpReachable()) {
            err.println("meshwork netcheck: no STUN server answered within " + budget.toMillis()
                    + " ms: UDP is blocked or the servers are unreachable");
            return EXIT_NO_ANSWER;
        }
        return EXIT_REPORT;
    }

    private List<InetSocketAddress> resolveServers() throws UsageException {
        List<String> given = stunServers;
        String source = "--stun";
        if (given.isEmpty()) {
            source = SERVERS_KEY;
            try {
                given = config.get().getStringList(SERVERS_KEY);
            } catch (ConfigException e) {
                throw new UsageException("cannot read " + SERVERS_KEY + " from config: " + e.getMessage());
            }
            if (given.isEmpty()) {
                given = fromNodeState();
                source = "STUN server from control";
            }
            if (given.isEmpty()) {
                throw new UsageException("no STUN servers: pass --stun HOST:PORT, set " + SERVERS_KEY
                        + " in the configuration (the list is empty), or join a mesh whose control hands some out"
                        + " (none in " + state.resolve() + ")");
            }
        }
        List<InetSocketAddress> resolved = new ArrayList<>(given.size());
        for (String server : given) {
            try {
                HostPort hostPort = HostPort.parse(server, HostPort.DEFAULT_STUN_PORT);
                if (hostPort.port() == 0) {
                    throw new InvalidAddressException("'" + server + "': port 0 is not a server port");
                }
                resolved.add(hostPort.resolve());
            } catch (InvalidAddressException e) {
                throw new UsageException(source + " " + e.getMessage());
            }
        }
        return resolved;
    }

    /** The relays control handed the node whose state is in {@code --state}; none without one (or unreadable). */
    private List<RelayInfo> relaysFromNodeState() {
        try {
            NodeIdentity identity = NodeIdentity.load(state.resolve());
            if (identity == null || identity.registration() == null || identity.registration().relays() == null) {
                return List.of();
            }
            return identity.registration().relays().stream().filter(relay -> relay != null && relay.name() != null)
                    .limit(RelayLatencyProbe.MAX_RELAYS).toList();
        } catch (java.io.IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** Every relay's round trip ({@link RelayLatencyProbe}); none when the probe's socket cannot be had. */
    private static CompletableFuture<Map<String, Duration>> measureRelays(List<RelayInfo> relays,
            ScheduledExecutorService scheduler) {
        NettyUdpTransport socket;
        try {
            socket = NettyUdpTransport.bind(new InetSocketAddress(0));
        } catch (TransportException e) {
            return CompletableFuture.completedFuture(Map.of());
        }
        RelayLatencyProbe probe = new RelayLatencyProbe(socket, scheduler, System::nanoTime,
                address -> CompletableFuture.supplyAsync(() -> {
                    try (java.net.Socket tcp = new java.net.Socket()) {
                        tcp.connect(address, (int) RelayLatencyProbe.TIMEOUT.toMillis());
                        return true;
                    } catch (java.io.IOException e) {
                        return false;
                    }
                }));
        return probe.measure(relays).toCompletableFuture().whenComplete((done, failure) -> {
            probe.close();
            socket.close();
        });
    }

    /**
     * The IPv4 STUN servers control handed the node whose state is in {@code --state}; empty without one.
     */
    private List<String> fromNodeState() throws UsageException {
        try {
            NodeIdentity identity = NodeIdentity.load(state.resolve());
            if (identity == null || identity.registration() == null
                    || identity.registration().stunServers() == null) {
                return List.of();
            }
            // The NAT probe compares mappings of one family: IPv6 servers (a relay's --stun6) are left to the node.
            return identity.registration().stunServers().stream()
                    .filter(server -> server != null && !server.startsWith("[")).toList();
        } catch (java.io.IOException e) {
            throw new UsageException("cannot read the node's state in " + state.resolve() + ": " + e.getMessage());
        }
    }

    private InetSocketAddress parseBind() throws UsageException {
        try {
            return HostPort.parse(bind, 0).resolve();
        } catch (InvalidAddressException e) {
            throw new UsageException("--bind " + e.getMessage());
        }
    }

    private Duration configuredTimeout() throws UsageException {
        try {
            return checkedTimeout(config.get().getDuration(TIMEOUT_KEY), TIMEOUT_KEY);
        } catch (ConfigException e) {
            throw new UsageException("cannot read " + TIMEOUT_KEY + " from config: " + e.getMessage());
        }
    }

    /** Accepts "5s", "1500ms", "2m" and ISO-8601 ("PT5S"). */
    static Duration parseDuration(String text) throws UsageException {
        String value = text.trim().toLowerCase(Locale.ROOT);
        Duration parsed;
        try {
            if (value.startsWith("pt")) {
                parsed = Duration.parse(value.toUpperCase(Locale.ROOT));
            } else if (value.endsWith("ms")) {
                parsed = Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)));
            } else if (value.endsWith("s")) {
                parsed = Duration.ofMillis(Math.round(Double.parseDouble(value.substring(0, value.length() - 1)) * 1000));
            } else if (value.endsWith("m")) {
                parsed = Duration.ofMinutes(Long.parseLong(value.substring(0, value.length() - 1)));
            } else {
                throw new UsageException("--timeout '" + text + "': give a unit, as in 5s or 1500ms");
            }
        } catch (NumberFormatException | DateTimeParseException | ArithmeticException e) {
            throw new UsageException("--timeout '" + text + "' is not a duration (examples: 5s, 1500ms, PT3S)");
        }
        return checkedTimeout(parsed, "--timeout");
    }

    private static Duration checkedTimeout(Duration value, String what) throws UsageException {
        if (value.isNegative() || value.isZero() || value.compareTo(MAX_TIMEOUT) > 0) {
            throw new UsageException(what + " must be between 1 ms and " + MAX_TIMEOUT.toMinutes() + " minutes");
        }
        return value;
    }

    /** A problem with what the user asked for; the message is the whole explanation. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }
}
