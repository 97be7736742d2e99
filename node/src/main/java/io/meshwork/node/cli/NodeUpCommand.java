package io.meshwork.node.cli;

import io.meshwork.node.agent.NodeAgent;
import io.meshwork.node.agent.NodeIdentity;
import io.meshwork.node.dataplane.LinuxTun;
import io.meshwork.node.local.LocalApiClient;
import io.meshwork.node.local.NodeStatus;
import io.meshwork.protocol.fs.SecretFiles;
import io.meshwork.protocol.tls.CertificatePin;
import io.meshwork.node.dns.HostDns;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.IpLiteral;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code meshwork node up}: join the organization and keep this device connected to its peers. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = {"Join the mesh and keep this device connected to its peers.",
            "Registers with control (first run; the identity stays in --state), brings up the WireGuard interface,",
            "reports endpoints and follows the peer map. Runs in the foreground until stopped (Ctrl-C or",
            "`meshwork node down`). Needs root (TUN device)."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:stopped", "1:could not start (control refused, no TUN device)", "2:usage error"})
public final class NodeUpCommand implements Callable<Integer> {

    @Mixin
    StateDirectoryOption state = new StateDirectoryOption();

    @Option(names = "--control", paramLabel = "URL", description = "Control plane URL (first run; later from --state).")
    URI control;

    @Option(names = "--control-pin", paramLabel = "sha256:HEX", description = "Trust exactly the control certificate "
            + "with this pin (env MESHWORK_CONTROL_PIN; first run, or to change it; later from --state). Without "
            + "one, an https URL is checked against the JDK's trust store.")
    String controlPin;

    @Option(names = "--key", paramLabel = "KEY", description = "Registration key (first run only; env MESHWORK_KEY).")
    String key;

    @Option(names = "--ifname", paramLabel = "NAME", defaultValue = "meshwork0", description = "Interface name (default: meshwork0).")
    String interfaceName;

    @Option(names = "--hostname", paramLabel = "NAME", description = "Name peers see (default: this machine's host name).")
    String hostname;

    @Option(names = "--listen-port", paramLabel = "PORT", defaultValue = "0", description = "WireGuard UDP port (default: any free port), on [::] (IPv4 and IPv6; 0.0.0.0 where IPv6 is off).")
    int listenPort;

    @Option(names = "--probe-interval", paramLabel = "DURATION", defaultValue = "PT30S",
            description = "How often to re-probe the NAT and report endpoints (ISO-8601, default PT30S).")
    Duration probeInterval;

    @Option(names = "--dns", paramLabel = "MODE", defaultValue = "auto",
            description = "How this host uses the node's resolver at 100.100.100.100 (it runs in every mode): "
                    + "auto (default: resolved when systemd-resolved runs, else nothing), resolved (split DNS: "
                    + "the mesh domain on the mesh interface), resolvconf (/etc/resolv.conf names the resolver, "
                    + "restored at node down), off.")
    String dnsMode;

    @Option(names = "--dns-upstream", paramLabel = "IP[:PORT]", arity = "1..*",
            description = "Where the resolver sends names outside the mesh (default: the servers /etc/resolv.conf "
                    + "named at start).")
    List<String> dnsUpstreams = new ArrayList<>();

    @Option(names = "--relay", description = "Also run the relay service for this node's organization (the node "
            + "needs a public address, and an administrator must allow it: PATCH /api/v1/devices/{id} "
            + "{\"relayAllowed\": true}). Only the organization's devices may use it.")
    boolean relay;

    @Option(names = "--relay-port", paramLabel = "N", defaultValue = "3340",
            description = "UDP and TCP port of the relay service (default: ${DEFAULT-VALUE}, a relay's own).")
    int relayPort;

    @Option(names = "--relay-public-address", paramLabel = "IP",
            description = "The address the relay service is advertised at (default: this node's public address as "
                    + "STUN found it, else its own address).")
    String relayPublicAddress;
    @Option(names = "--advertise-routes", paramLabel = "CIDR", split = ",",
            description = "Route these prefixes of this host's LAN for the mesh (once an administrator, the "
                    + "registration key or a tag approves them): forwarding on, and with --snat the mesh's traffic "
                    + "masqueraded; undone at node down.")
    List<String> advertiseRoutes = new ArrayList<>();

    @Option(names = "--advertise-exit-node",
            description = "Offer this node as an exit node (0.0.0.0/0 and ::/0) for peers' internet traffic.")
    boolean advertiseExitNode;

    @Option(names = "--snat", paramLabel = "true|false", defaultValue = "true", arity = "1",
            description = "Masquerade routed traffic as this host's address (default true); false needs routes "
                    + "back to the overlay on the LAN.")
    boolean snat = true;

    @Option(names = "--accept-routes",
            description = "Route peers' approved subnet routes through the mesh (never a network this host is on).")
    boolean acceptRoutes;

    @Option(names = "--exit-node", paramLabel = "PEER|auto",
            description = "Send default traffic through this exit node (a peer's hostname or id; auto: any approved "
                    + "one); control, relays, STUN and peers stay on the original path.")
    String exitNode;

    @Option(names = "--exit-node-allow-lan",
            description = "With --exit-node: reach this host's LAN directly, not through the exit node.")
    boolean exitNodeAllowLan;

    @Option(names = "--daemon", description = "Run in the background (output to STATE/node.log); returns once the "
            + "agent answers on its local socket.")
    boolean daemon;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path stateDirectory = SecretFiles.createPrivateDirectories(state.resolve());
        NodeIdentity existing = NodeIdentity.load(stateDirectory);
        String registrationKey = key != null ? key : System.getenv("MESHWORK_KEY");
        URI controlUrl = control != null ? control : existing == null ? null : URI.create(existing.controlUrl());
        if (existing == null && (controlUrl == null || registrationKey == null)) {
            spec.commandLine().getErr().println("meshwork node up: first run needs --control URL and --key KEY");
            return ExitCodes.USAGE;
        }
        String fromEnvironment = System.getenv("MESHWORK_CONTROL_PIN");
        // A blank variable (e.g. an unset compose value) counts as not given, so the pin saved in --state applies.
        String pinText = controlPin != null ? controlPin
                : fromEnvironment == null || fromEnvironment.isBlank() ? null : fromEnvironment;
        boolean sameControl = existing != null
                && (control == null || control.toString().equals(existing.controlUrl()));
        if (pinText == null && sameControl) {
            pinText = existing.controlPin();
        }
        CertificatePin pin = null;
        if (pinText != null && !(controlPin == null && pinText.isBlank())) {
            try {
                pin = CertificatePin.parse(pinText);
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println("meshwork node up: bad --control-pin: " + e.getMessage());
                return ExitCodes.USAGE;
            }
            if (!"https".equalsIgnoreCase(controlUrl.getScheme())) {
                spec.commandLine().getErr().println("meshwork node up: --control-pin needs an https:// control URL, "
                        + "not " + controlUrl);
                return ExitCodes.USAGE;
            }
        }
        if (daemon) {
            return daemonise(stateDirectory);
        }
        NodeAgent.DnsOptions dns;
        try {
            dns = dnsOptions();
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("meshwork node up: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        NodeAgent.RelayOptions relayOptions;
        NodeAgent.RouteOptions routes;
        try {
            relayOptions = relayOptions();
            routes = routeOptions();
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("meshwork node up: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        String name = hostname != null ? hostname : InetAddress.getLocalHost().getHostName();
        NodeAgent agent;
        try {
            LinuxTun tun = LinuxTun.create(interfaceName, WgDeviceCommand.DEFAULT_MTU);
            agent = NodeAgent.start(new NodeAgent.Options(controlUrl, pin, registrationKey, name, listenPort,
                    probeInterval, dns, relayOptions, routes),
                    stateDirectory, tun);
        } catch (Exception e) {
            spec.commandLine().getErr().println("meshwork node up: " + e.getMessage());
            return 1;
        }
        var registration = agent.identity().registration();
        spec.commandLine().getOut().printf("meshwork: up as %s (%s) on %s, overlay %s%n", name, registration.id(),
                interfaceName, String.join(", ", registration.overlayIps()));
        spec.commandLine().getOut().flush();
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "node-shutdown"));
        agent.awaitStop();
        return 0;
    }

    /** {@code --relay}, {@code --relay-port} and {@code --relay-public-address}, checked. */
    private NodeAgent.RelayOptions relayOptions() {
        if (!relay) {
            if (relayPublicAddress != null || relayPort != io.meshwork.protocol.relay.NodeRelayService.DEFAULT_PORT) {
                throw new IllegalArgumentException("--relay-port and --relay-public-address go with --relay");
            }
            return NodeAgent.RelayOptions.OFF;
        }
        if (relayPort < 1 || relayPort > 65535) {
            throw new IllegalArgumentException("--relay-port must be 1 to 65535, not " + relayPort);
        }
        InetAddress publicAddress = null;
        if (relayPublicAddress != null) {
            try {
                publicAddress = IpLiteral.parse(relayPublicAddress);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("bad --relay-public-address " + relayPublicAddress
                        + ": an IP address is needed");
            }
            if (publicAddress.isAnyLocalAddress() || publicAddress.isMulticastAddress()) {
                throw new IllegalArgumentException("bad --relay-public-address " + relayPublicAddress
                        + ": devices cannot reach a relay there");
            }
        }
        return new NodeAgent.RelayOptions(true, relayPort, publicAddress);
    }

    /** The route flags, checked: prefixes with their length, no default route, an exit node named plainly. */
    NodeAgent.RouteOptions routeOptions() {
        List<io.meshwork.protocol.net.Prefix> advertise = new ArrayList<>();
        for (String text : advertiseRoutes) {
            if (text.isBlank()) {
                continue;
            }
            io.meshwork.protocol.net.Prefix prefix;
            try {
                prefix = io.meshwork.protocol.net.Prefix.parse(text.strip());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("bad --advertise-routes " + text + ": " + e.getMessage());
            }
            if (prefix.length() == 0) {
                throw new IllegalArgumentException("--advertise-routes " + text
                        + " is a default route: use --advertise-exit-node");
            }
            if (!advertise.contains(prefix)) {
                advertise.add(prefix);
            }
        }
        if (exitNodeAllowLan && exitNode == null) {
            throw new IllegalArgumentException("--exit-node-allow-lan needs --exit-node");
        }
        if (exitNode != null && (exitNode.isBlank() || exitNode.length() > 128)) {
            throw new IllegalArgumentException("--exit-node needs a peer's hostname or id, or auto");
        }
        return new NodeAgent.RouteOptions(advertise, advertiseExitNode, snat,
                new io.meshwork.node.routing.RouteSelector.Options(acceptRoutes,
                        exitNode == null ? null : exitNode.strip(), exitNodeAllowLan));
    }

    /** {@code --dns} and {@code --dns-upstream}, checked. */
    private NodeAgent.DnsOptions dnsOptions() {
        HostDns.Mode mode = HostDns.Mode.parse(dnsMode);
        List<InetSocketAddress> upstreams = new ArrayList<>();
        for (String text : dnsUpstreams) {
            try {
                HostPort upstream = HostPort.parse(text, 53);
                upstreams.add(new InetSocketAddress(IpLiteral.parse(upstream.host()), upstream.port()));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("bad --dns-upstream " + text + ": " + e.getMessage()
                        + " (an IP address, optionally with :PORT)");
            }
        }
        return new NodeAgent.DnsOptions(true, mode, upstreams);
    }

    /** Runs the agent detached and waits until it answers on its local socket (registration included). */
    private int daemonise(Path stateDirectory) throws Exception {
        SecretFiles.createPrivateDirectories(stateDirectory);
        Path log = stateDirectory.resolve("node.log");
        LocalApiClient client = new LocalApiClient(stateDirectory);
        try {
            NodeStatus running = client.status();
            spec.commandLine().getErr().println("meshwork node up: an agent already runs with " + stateDirectory
                    + " (" + running.self().hostname() + "); stop it with `meshwork node down` first");
            return 1;
        } catch (LocalApiClient.LocalApiException e) {
            // No agent answers there: start one.
        }
        Process child = Daemon.relaunch("--daemon", null, log);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) {
                spec.commandLine().getErr().println("meshwork node up: the agent stopped (exit " + child.exitValue()
                        + "); see " + log);
                return 1;
            }
            try {
                NodeStatus status = client.status();
                spec.commandLine().getOut().printf("meshwork: up as %s (%s) in the background, pid %d, overlay %s; log %s%n",
                        status.self().hostname(), status.self().id(), child.pid(),
                        String.join(", ", status.self().overlayIps()), log);
                return 0;
            } catch (LocalApiClient.LocalApiException e) {
                Thread.sleep(100);
            }
        }
        spec.commandLine().getErr().println("meshwork node up: the agent did not answer within 60 s; see " + log);
        return 1;
    }
}
