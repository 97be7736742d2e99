package io.meshwork.node.agent;

import com.typesafe.config.ConfigFactory;
import io.meshwork.node.dataplane.TunDevice;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.dns.DnsZone;
import io.meshwork.node.dns.HostDns;
import io.meshwork.node.dns.NodeDns;
import io.meshwork.node.local.LocalApiHandler;
import io.meshwork.node.local.LocalApiServer;
import io.meshwork.node.local.NodeStatus;
import io.meshwork.node.local.PingReply;
import io.meshwork.node.portmap.PortMapper;
import io.meshwork.node.relay.HomeRelays;
import io.meshwork.node.relay.RelayDatagramRouter;
import io.meshwork.node.relay.RelayLatencyProbe;
import io.meshwork.node.relay.RelayLink;
import io.meshwork.node.relay.RelayListener;
import io.meshwork.node.routing.ClientRoutes;
import io.meshwork.node.routing.ExitRouting;
import io.meshwork.node.routing.HostChanges;
import io.meshwork.node.routing.RouteSelector;
import io.meshwork.node.routing.RoutesStatus;
import io.meshwork.node.routing.SubnetRouter;
import io.meshwork.node.transport.PacketTransport;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.node.tunnel.ProbeRouter;
import io.meshwork.node.tunnel.TunnelPeer;
import io.meshwork.node.tunnel.TunnelSettings;
import io.meshwork.node.tunnel.TunnelSupervisor;
import io.meshwork.node.uapi.UapiServer;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.probe.ProbeCodec;
import io.meshwork.protocol.tls.CertificatePin;
import io.meshwork.protocol.wireguard.Key;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent (docs/architecture.md, "Node"): registers with control once (the identity stays in the state
 * directory) and wires what runs the node: the WireGuard device and its UAPI socket, the overlay addresses
 * ({@link OverlayInterface}), the relays ({@link HomeRelays}: a home relay by latency, peers' home relays on
 * demand, connections opened by {@link RelayConnection}), the probe router on the device's socket, the
 * actor tree ({@link NodeGuardian}: a tunnel actor per peer, the control session applying the peer map through
 * {@link PeerMapApplier}, endpoint discovery running {@link EndpointProbe}), the port mapping of the WireGuard port
 * on the gateway ({@link PortMapper}, deleted on close) and the local API, which answers from {@link StatusReport}
 * and {@link PeerPinger}. It starts and closes them; the work is theirs.
 *
 * <p>Threads: the actor system's dispatcher ("meshwork-node"); "node-agent", two for the actors' blocking work
 * (STUN probes, reports to control); "node-stun", the STUN transactions' timers; the control session's "node-peer-stream"; the
 * device's own (TUN reader, timers, socket event loop) and the relay client's; "node-portmap", the port mapper's;
 * the local API's and UAPI's socket
 * threads, on which status and ping run; and "node-agent-stop", which closes the agent on {@code node down} or
 * when control refuses the device.
 */
public final class NodeAgent implements LocalApiHandler, AutoCloseable {

    /**
     * How the agent is asked to run. {@code controlPin}: the pin of control's TLS certificate, null to check an
     * https URL against the JDK's trust store. Both are kept in the identity.
     */
    public record Options(URI control, CertificatePin controlPin, String registrationKey, String hostname,
            int listenPort, Duration probeInterval, DnsOptions dns, RelayOptions relay, RouteOptions routes) {

        public Options(URI control, CertificatePin controlPin, String registrationKey, String hostname,
                int listenPort, Duration probeInterval, DnsOptions dns) {
            this(control, controlPin, registrationKey, hostname, listenPort, probeInterval, dns, RelayOptions.OFF,
                    RouteOptions.NONE);
        }

        public Options(URI control, CertificatePin controlPin, String registrationKey, String hostname,
                int listenPort, Duration probeInterval) {
            this(control, controlPin, registrationKey, hostname, listenPort, probeInterval, DnsOptions.OFF);
        }
    }

    /**
     * The relay this node runs for its organization ({@code --relay}, {@code --relay-port},
     * {@code --relay-public-address}; docs/architecture.md, "Relay scopes"): {@code enabled} false runs none;
     * {@code publicAddress} null advertises the address STUN found.
     */
    public record RelayOptions(boolean enabled, int port, InetAddress publicAddress) {
        public static final RelayOptions OFF = new RelayOptions(false,
                io.meshwork.protocol.relay.NodeRelayService.DEFAULT_PORT, null);
    }

    /**
     * The resolver ({@code --dns}, {@code --dns-upstream}; docs/architecture.md, "Names"): {@code enabled} false
     * runs none; {@code mode} is how the host uses it; {@code upstreams} empty means the host's servers.
     */
    public record DnsOptions(boolean enabled, HostDns.Mode mode, List<InetSocketAddress> upstreams) {
        public static final DnsOptions OFF = new DnsOptions(false, HostDns.Mode.OFF, List.of());
    }

    /**
     * Subnet routes and exit nodes (docs/architecture.md, "Subnet routers and exit nodes"): what this node
     * advertises ({@code --advertise-routes}, {@code --advertise-exit-node}) and whether it masquerades what it
     * forwards ({@code --snat}); what it takes from its peers ({@code --accept-routes}, {@code --exit-node},
     * {@code --exit-node-allow-lan}).
     */
    public record RouteOptions(List<io.meshwork.protocol.net.Prefix> advertise, boolean advertiseExitNode,
            boolean snat, RouteSelector.Options client) {
        public static final RouteOptions NONE = new RouteOptions(List.of(), false, true,
                RouteSelector.Options.NONE);

        public RouteOptions {
            advertise = advertise == null ? List.of() : List.copyOf(advertise);
            client = client == null ? RouteSelector.Options.NONE : client;
        }

        boolean routes() {
            return advertiseExitNode || !advertise.isEmpty();
        }
    }

    private static final Logger log = LoggerFactory.getLogger(NodeAgent.class);
    /**
     * How long {@code node up} waits for the gateway's first port-mapping answer before it probes STUN and peers, so
     * that its first packets to them already leave through the mapped port.
     */
    private static final Duration FIRST_PORT_MAPPING = Duration.ofMillis(1500);

    /** Replaced when the certificate is renewed ({@link CertificateRenewer}). */
    private volatile NodeIdentity identity;
    private final Path stateDirectory;
    private final CertificateRenewer certificates;
    private final WireGuardDevice device;
    private final UapiServer uapi;
    private final OverlayInterface overlay;
    /** Blocking work of the actors (STUN probes, HTTP reports) and the NAT prober's timeouts. */
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, runnable -> {
        Thread thread = new Thread(runnable, "node-agent");
        thread.setDaemon(true);
        return thread;
    });
    /**
     * The STUN transactions' timers (retransmissions, answers that never come) on a thread of their own: a report to
     * control blocking a {@link #scheduler} thread for a TLS handshake must not hold back a STUN request, or the
     * first discovery waits on timers that start late.
     */
    private final ScheduledExecutorService stunTimers = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "node-stun");
        thread.setDaemon(true);
        return thread;
    });
    private final ProbeCodec probeCodec;
    private final StatusReport statusReport = new StatusReport();
    /** The relays and STUN servers control lists now: the registration's until the stream sends its own. */
    private final RelayList relayList;
    private final EndpointProbe endpointProbe;
    private final PortMapper portMapper;
    /** Endpoint discovery, once the actors run (the port mapper may call before). */
    private volatile ActorRef<EndpointDiscovery.Command> discovery;
    private final ActorSystem<Void> system;
    private final NodeGuardian.Children actors;
    private final Map<String, PeerInfo> peers;
    private final PeerPinger pinger;
    private final ProbeRouter probes;
    private final LocalApiServer localApi;
    /** The home relay and peers' home relays (docs/architecture.md, "Relay selection and failover"). */
    private final HomeRelays relays;
    /** The relay latency probe's own socket, and the threads of its TCP connection attempts. */
    private final PacketTransport latencySocket;
    private final RelayLatencyProbe latencyProbe;
    private final ExecutorService latencyConnects = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "node-relay-latency");
        thread.setDaemon(true);
        return thread;
    });
    /**
     * Where tunnels' questions about the port of new flows wait for the socket's STUN handler (a discovery may hold
     * it for seconds) without holding up {@link #scheduler}; at most 64 wait (one per tunnel's attempt), more are refused.
     */
    private final ExecutorService newFlowQuestions = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0,
            TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(64), runnable -> {
                Thread thread = new Thread(runnable, "node-new-flow-port");
                thread.setDaemon(true);
                return thread;
            });
    /** The latest endpoint discovery, reported again with each new home relay. */
    private volatile EndpointDiscovery.Discovered discovered;

    /** The resolver, or null when it does not run. */
    private volatile NodeDns dns;
    /** The relay this node runs for its organization ({@code --relay}), or null. */
    private volatile NodeRelayRunner relayService;
    /** What the node changed on the host for routes, undone at close (and at the next start after a crash). */
    private volatile HostChanges hostChanges;
    private volatile RouteAdvertiser routeAdvertiser;
    private volatile ClientRoutes clientRoutes;
    /** How the node forwards routed traffic, or why it cannot; null when it routes nothing. */
    private volatile String forwarding;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean closed;
    /** The first time each step of connection set-up happened, logged at debug level. */
    private final ConnectionTimeline timeline;

    private NodeAgent(NodeIdentity identity, ControlClient control, WireGuardDevice device, UapiServer uapi,
            OverlayInterface overlay, Path stateDirectory, Duration probeInterval, ConnectionTimeline timeline)
            throws IOException {
        this.timeline = timeline;
        this.identity = identity;
        this.stateDirectory = stateDirectory;
        this.certificates = new CertificateRenewer(scheduler, () -> this.identity.registration().certificate(),
                () -> control.renewCertificate(this.identity.registration().token()), this::certificateRenewed,
                java.time.Clock.systemUTC());
        this.overlay = overlay;
        this.device = device;
        this.uapi = uapi;
        this.probeCodec = new ProbeCodec(Key.fromBase64(identity.privateKey()));
        this.relayList = new RelayList(identity.registration().relays(), identity.registration().stunServers());
        // Mapped before the first STUN probe, so that probe (and every packet to peers) leaves through the mapping.
        this.portMapper = PortMapper.create(device.listenPort(), PortMapper.Settings.defaults(),
                mapping -> rediscover("the port mapping changed"));
        portMapper.start();
        portMapper.awaitFirstRound(FIRST_PORT_MAPPING);
        this.endpointProbe = new EndpointProbe(device, relayList::stunServers, stunTimers, statusReport::natReport,
                portMapper::current);
        this.latencySocket = NettyUdpTransport.bindAnyAddress(0);
        this.latencyProbe = new RelayLatencyProbe(latencySocket, scheduler, System::nanoTime, this::openTcp);
        // Relay datagrams reach the client of the relay they came from; disco messages go to the probe router.
        this.relays = new HomeRelays(RelayConnection.connector(() -> this.identity,
                new RelayDatagramRouter(device.transport())), latencyProbe::measure,
                timed(new RelayConnection.DeviceListener(device, this::discoFromRelay)),
                this::homeRelayChanged, scheduler, System::nanoTime);
        device.setRelayPath(this::sendThroughRelay);
        // The relay connection starts now, before the actors, routes and resolver: it is up by the time the peer
        // map brings the first peers, whose first handshakes go through it. The home relay is the first listed
        // until every relay is measured (at once), then the nearest.
        relays.relaysListed(relayList.relays());
        TunnelSupervisor.Wiring tunnelWiring = new TunnelSupervisor.Wiring(this::tunnelPort,
                this::tunnelChanged, TunnelSettings.defaults(), System::nanoTime, System.nanoTime(),
                DispatcherSelector.defaultDispatcher());
        NodeGuardian.Wiring wiring = new NodeGuardian.Wiring(tunnelWiring, selfFacts(List.of(), Map.of()),
                tunnelsRef -> ControlSession.create(control, identity.registration().token(),
                        event -> {
                            peerMapOf(tunnelsRef).apply(event);
                            peerMapTimeline(event);
                            dnsFollows(event);
                            relaysFollow(event);
                        }, this::shutdown, scheduler,
                        statusReport::controlState),
                (tunnelsRef, session) -> EndpointDiscovery.createWithPreliminary(endpointProbe::run,
                        () -> EndpointProbe.localAddresses(device),
                        probeInterval, discovered -> {
                            tunnelsRef.tell(new TunnelSupervisor.SelfUpdated(selfFacts(discovered.endpoints(),
                                    discovered.nat())));
                            EndpointDiscovery.Discovered previous = this.discovered;
                            this.discovered = discovered;
                            timeline.first("endpoints discovered: " + discovered.endpoints().size()
                                    + " endpoint(s), NAT " + discovered.nat().getOrDefault("mapping", "not classified"));
                            if (previous != null && !previous.endpoints().equals(discovered.endpoints())) {
                                // Another network: the relays' latencies may have changed too.
                                relays.measureNow("this node's endpoints changed");
                            }
                            session.tell(new ControlSession.Report(new EndpointReport(discovered.endpoints(),
                                    discovered.nat(), relays.homeName())));
                        }, scheduler));
        CompletableFuture<NodeGuardian.Children> ready = new CompletableFuture<>();
        this.system = ActorSystem.create(NodeGuardian.create(wiring, ready), "meshwork-node",
                ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.log-dead-letters = off\n"
                                + "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off")
                        .withFallback(ConfigFactory.load()));
        this.actors = ready.join();
        this.discovery = actors.discovery();
        ActorRef<TunnelSupervisor.Command> tunnels = actors.tunnels();
        this.peers = peerMapOf(tunnels).peers();
        this.pinger = PeerPinger.through(tunnels, system.scheduler(), peers::values, relays::relayFor);
        this.probes = new ProbeRouter(probeCodec, key -> device.peer(key) != null, tunnels);
        device.registerShared(DatagramKind.PROBE, (datagram, sender) -> {
            if (timeline.enabled()) {
                timeline.first("first probe arrived directly (from " + sender + ")");
            }
            probes.onDatagram(datagram, sender);
        });
        this.localApi = LocalApiServer.start(stateDirectory, this);
    }

    /**
     * Registers (or reuses the identity in {@code stateDirectory}), brings the interface up, connects to the relay
     * and starts following the peer map.
     */
    public static NodeAgent start(Options options, Path stateDirectory, TunDevice tun) throws IOException {
        ConnectionTimeline timeline = new ConnectionTimeline(System::nanoTime);
        timeline.first("agent starting");
        ControlClient control = new ControlClient(options.control(), options.controlPin());
        NodeIdentity identity = NodeIdentity.load(stateDirectory);
        String pin = options.controlPin() == null ? null : options.controlPin().toString();
        if (identity != null && (!options.control().toString().equals(identity.controlUrl())
                || !java.util.Objects.equals(pin, identity.controlPin()))) {
            // Told of control anew (a new address, a new certificate): later starts use that.
            identity = identity.withControl(options.control().toString(), pin);
            identity.save(stateDirectory);
        }
        if (identity == null) {
            // The key is kept before control hears of it, so a lost answer is repaired by registering again.
            identity = Registration.register(control, options.control().toString(), options.registrationKey(),
                    options.hostname(), stateDirectory);
            var registration = identity.registration();
            if ("pending".equals(registration.status())) {
                log.warn("registered as {}; it waits for an administrator to approve it (meshwork admin devices "
                        + "approve {}) and has no peers until then", registration.id(), registration.id());
            }
        }
        timeline.first("registered");
        WireGuardDevice device = new WireGuardDevice(tun,
                port -> NettyUdpTransport.bindAnyAddress(port));
        device.setPrivateKey(Key.fromBase64(identity.privateKey()));
        device.setListenPort(options.listenPort());
        UapiServer uapi = UapiServer.start(device);
        OverlayInterface overlay = OverlayInterface.of(tun.name());
        overlay.configure(identity.registration().overlayIps(), identity.registration().overlayPrefixes());
        // What an earlier run left (killed without node down) goes first, whatever this run routes.
        HostChanges changes = new HostChanges(stateDirectory,
                new HostChanges.System());
        changes.recover();
        NodeAgent agent = new NodeAgent(identity, control, device, uapi, overlay, stateDirectory,
                options.probeInterval(), timeline);
        agent.hostChanges = changes;
        agent.startRoutes(options.routes() == null ? RouteOptions.NONE : options.routes(), control, tun.name(),
                options.control());
        if (options.dns() != null && options.dns().enabled()) {
            agent.dns = startDns(options.dns(), identity, tun.name(), overlay, stateDirectory);
        }
        agent.actors.session().tell(ControlSession.Start.INSTANCE);
        if (options.relay() != null && options.relay().enabled()) {
            agent.relayService = NodeRelayRunner.start(options.relay(), options.control(), options.controlPin(),
                    identity, agent.endpointProbe::publicIps);
        }
        agent.certificates.start();
        agent.scheduler.scheduleWithFixedDelay(() -> {
            try {
                agent.relays.tick();
            } catch (RuntimeException e) {
                log.warn("relay check failed: {}", e.toString());
            }
        }, 1, 1, TimeUnit.SECONDS);
        PathReporter.start(control, identity.registration().token(), agent::status, agent.scheduler);
        timeline.first("agent started");
        return agent;
    }

    /**
     * Routes: as a router, forwarding and SNAT, and the reports to control; as a client, the routes it takes from the
     * peer map (before the control session starts, so the first snapshot already brings them).
     */
    private void startRoutes(RouteOptions options, ControlClient control, String interfaceName, URI controlUrl) {
        var registration = identity.registration();
        boolean healthy = true;
        if (options.routes()) {
            List<io.meshwork.protocol.net.Prefix> overlayPrefixes = new java.util.ArrayList<>();
            for (String prefix : registration.overlayPrefixes() == null ? List.<String>of()
                    : registration.overlayPrefixes()) {
                try {
                    overlayPrefixes.add(io.meshwork.protocol.net.Prefix.parse(prefix));
                } catch (RuntimeException e) {
                    log.debug("ignoring overlay prefix {}: {}", prefix, e.getMessage());
                }
            }
            try {
                String firewall = SubnetRouter.install(hostChanges,
                        new SubnetRouter.Options(interfaceName, options.advertise(),
                                options.advertiseExitNode(), options.snat(), overlayPrefixes));
                forwarding = firewall + (options.snat() ? " with SNAT" : " without SNAT");
                log.info("routing {}{} for the mesh ({})", options.advertise().isEmpty() ? ""
                        : options.advertise().stream().map(Object::toString)
                                .collect(java.util.stream.Collectors.joining(", ")),
                        options.advertiseExitNode() ? (options.advertise().isEmpty() ? "" : " and ")
                                + "as an exit node" : "", forwarding);
            } catch (IOException e) {
                healthy = false;
                forwarding = "cannot forward: " + e.getMessage();
                log.error("routing: {}; control is told this router is unhealthy", forwarding);
            }
        }
        String token = registration.token();
        routeAdvertiser = new RouteAdvertiser(options.advertise().stream().map(Object::toString).toList(),
                options.advertiseExitNode(), healthy, advertisement -> control.reportRoutes(token, advertisement));
        routeAdvertiser.start(scheduler);
        if (options.client().any()) {
            ExitRouting exit = options.client().exitNode() == null ? null
                    : new ExitRouting(hostChanges, interfaceName,
                            options.client().allowLan(), () -> infrastructure(controlUrl));
            clientRoutes = new ClientRoutes(hostChanges, interfaceName, options.client(),
                    () -> RouteSelector.connectedNetworks(interfaceName), exit);
            applier.routing(clientRoutes::follow);
        }
    }

    /** Control, the relays and the STUN servers: the addresses an exit node must not carry this node's traffic to. */
    private List<java.net.InetAddress> infrastructure(URI controlUrl) {
        List<java.net.InetAddress> addresses = new java.util.ArrayList<>();
        List<String> hosts = new java.util.ArrayList<>();
        hosts.add(controlUrl.getHost());
        for (io.meshwork.protocol.api.RelayInfo relay : relayList.relays()) {
            for (String address : java.util.Arrays.asList(relay.udp(), relay.tcp())) {
                if (address != null) {
                    try {
                        hosts.add(io.meshwork.protocol.net.HostPort.parse(address, 0).host());
                    } catch (RuntimeException e) {
                        log.debug("relay address {}: {}", address, e.getMessage());
                    }
                }
            }
        }
        for (String stun : relayList.stunServers()) {
            try {
                hosts.add(io.meshwork.protocol.net.HostPort.parse(stun, 3478).host());
            } catch (RuntimeException e) {
                log.debug("STUN server {}: {}", stun, e.getMessage());
            }
        }
        for (String host : hosts) {
            try {
                addresses.addAll(java.util.Arrays.asList(java.net.InetAddress.getAllByName(host)));
            } catch (java.net.UnknownHostException e) {
                log.debug("cannot resolve {}: {}", host, e.getMessage());
            }
        }
        return addresses;
    }

    /** The resolver with the tunnel; without it (it could not start) the node runs on, and says why. */
    private static NodeDns startDns(DnsOptions options, NodeIdentity identity, String interfaceName,
            OverlayInterface overlay, Path stateDirectory) {
        var registration = identity.registration();
        try {
            return NodeDns.start(new NodeDns.Settings(interfaceName, options.upstreams(),
                            overlay.current().ipv6Missing() == null),
                    new DnsZone.Device(registration.id(), identity.hostname(), registration.overlayIps()),
                    registration.overlayPrefixes(), HostDns.of(options.mode(), interfaceName, stateDirectory),
                    OverlayInterface::runCommand);
        } catch (Exception e) {
            log.error("DNS: the resolver does not run: {}", e.getMessage());
            return null;
        }
    }

    /** Names follow the peer map; a "dns" event brings the domain and custom records. */
    private void dnsFollows(PeerMapEvent event) {
        NodeDns resolver = dns;
        if (resolver == null || event == null) {
            return;
        }
        if (PeerMapEvent.DNS.equals(event.type())) {
            resolver.settings(event.dns());
        } else if (event.peers() != null && !event.peers().isEmpty() || event.removed() != null
                && !event.removed().isEmpty() || PeerMapEvent.SNAPSHOT.equals(event.type())) {
            resolver.peers(peers.values());
        }
    }

    public NodeIdentity identity() {
        return identity;
    }

    /** Blocks until the agent is closed (by {@code node down} or a signal). */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    // ---- wiring ------------------------------------------------------------------------------------------

    /**
     * Asks, off the actors' threads, which endpoint new flows of the WireGuard socket get; false when no netcheck
     * named a server to ask.
     */
    private boolean learnNewFlowEndpoint(java.util.function.Consumer<java.util.Optional<InetSocketAddress>> answer) {
        if (closed || !endpointProbe.canLearnNewFlowEndpoint()) {
            return false;
        }
        try {
            newFlowQuestions.execute(() -> answer.accept(endpointProbe.newFlowEndpoint()));
            return true;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return false;
        }
    }

    private TunnelPeer selfFacts(List<Endpoint> endpoints, Map<String, Object> nat) {
        return PeerFacts.forSelf(endpoints, nat, device.listenPort(), EndpointProbe.localAddresses(device));
    }

    private DeviceTunnelPort tunnelPort(Key peerKey) {
        return new DeviceTunnelPort(device, peerKey, probeCodec, () -> relays.clientFor(peerKey),
                () -> fallbackEndpoint(peerKey), this::rediscoverSoon, timeline, this::learnNewFlowEndpoint);
    }

    // ---- the set-up timeline (debug level) -----------------------------------------------------------------

    /** A tunnel's status for {@code meshwork status}; its first entry into each path state goes on the timeline. */
    private void tunnelChanged(Key peer, io.meshwork.node.tunnel.TunnelStatus status) {
        if (status != null && timeline.enabled()) {
            timeline.first("peer " + peer.toBase64().substring(0, 8) + ": tunnel "
                    + status.state().name().toLowerCase(java.util.Locale.ROOT));
        }
        statusReport.tunnelChanged(peer, status);
    }

    /** The first peer-map event, and each peer's first appearance in the map. */
    private void peerMapTimeline(PeerMapEvent event) {
        if (!timeline.enabled() || event == null) {
            return;
        }
        timeline.first("first peer-map event (" + event.type() + ")");
        for (PeerInfo info : peers.values()) {
            timeline.first("peer " + String.valueOf(info.publicKey()).substring(0, 8) + " (" + info.hostname()
                    + ") in the peer map with " + (info.endpoints() == null ? 0 : info.endpoints().size())
                    + " endpoint(s)");
            if (info.endpoints() != null && !info.endpoints().isEmpty()) {
                timeline.first("peer " + String.valueOf(info.publicKey()).substring(0, 8)
                        + ": first endpoints in the peer map");
            }
        }
    }

    /** The device's relay path: WireGuard datagrams to a peer through its relay. */
    private boolean sendThroughRelay(Key peer, java.nio.ByteBuffer datagram) {
        boolean sent = relays.sendPacket(peer, datagram);
        if (timeline.enabled() && datagram.remaining() > 0) {
            timeline.first("peer " + peer.toBase64().substring(0, 8) + ": first WireGuard "
                    + wireGuardKind(datagram.get(datagram.position())) + (sent ? " sent through the relay"
                            : " dropped (no relay connection yet)"));
        }
        return sent;
    }

    private static String wireGuardKind(byte type) {
        return switch (type) {
            case 1 -> "handshake initiation";
            case 2 -> "handshake response";
            case 3 -> "cookie reply";
            case 4 -> "transport packet";
            default -> "datagram";
        };
    }

    /** What the relays deliver, with the first relay connection and the first handshake messages on the timeline. */
    private RelayListener timed(RelayListener delivery) {
        return new RelayListener() {
            @Override
            public void onPacket(io.meshwork.protocol.relay.RelayKey source, java.nio.ByteBuffer payload) {
                if (timeline.enabled() && payload.remaining() > 0) {
                    timeline.first("peer " + Key.of(source.bytes()).toBase64().substring(0, 8) + ": first WireGuard "
                            + wireGuardKind(payload.get(payload.position())) + " received through the relay");
                }
                delivery.onPacket(source, payload);
            }

            @Override
            public void onDisco(io.meshwork.protocol.relay.RelayKey source, java.nio.ByteBuffer payload) {
                timeline.first("first probe arrived through the relay");
                delivery.onDisco(source, payload);
            }

            @Override
            public void onPeerGone(io.meshwork.protocol.relay.RelayKey peer) {
                delivery.onPeerGone(peer);
            }

            @Override
            public void onStatus(io.meshwork.node.relay.RelayStatus status) {
                if (status.connected()) {
                    timeline.first("relay connected over " + status.transport().map(Object::toString).orElse("?"));
                }
                delivery.onStatus(status);
            }
        };
    }

    /** A tunnel saw its direct path die: look at this node's endpoints again (a NAT may have rebound). */
    private void rediscoverSoon() {
        rediscover("a direct path died");
    }

    private void rediscover(String why) {
        ActorRef<EndpointDiscovery.Command> running = discovery;
        if (!closed && running != null) {
            running.tell(new EndpointDiscovery.ProbeNow(why));
        }
    }

    /** Without a relay: the endpoint a plain WireGuard peer would use ({@link EndpointChoice}). */
    private InetSocketAddress fallbackEndpoint(Key peerKey) {
        return peers.values().stream()
                .filter(info -> info.publicKey().equals(peerKey.toBase64()))
                .findFirst()
                .flatMap(info -> EndpointChoice.choose(info.endpoints(), endpointProbe.publicIps()))
                .map(EndpointChoice.Choice::address)
                .orElse(null);
    }

    /** A coordination message a relay delivered: for the probe router (which exists before any relay connects). */
    private void discoFromRelay(java.nio.ByteBuffer payload) {
        // The relay connects while the agent is still being built: a message before the router exists is dropped.
        ProbeRouter router = probes;
        if (router != null) {
            router.onRelayed(payload);
        }
    }

    /**
     * The latency probe's TCP measurement: opens a connection to {@code address} (and closes it), off the agent's
     * threads; completes true once it opened.
     */
    private CompletableFuture<Boolean> openTcp(InetSocketAddress address) {
        return CompletableFuture.supplyAsync(() -> {
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(address, (int) RelayLatencyProbe.TIMEOUT.toMillis());
                return true;
            } catch (IOException e) {
                return false;
            }
        }, latencyConnects);
    }

    /** A new home relay: control hears it with this node's endpoints, and peers follow through the peer map. */
    private void homeRelayChanged(String home) {
        EndpointDiscovery.Discovered latest = discovered;
        NodeGuardian.Children running = actors;
        if (latest != null && running != null && !closed) {
            running.session().tell(new ControlSession.Report(new EndpointReport(latest.endpoints(), latest.nat(),
                    home)));
        }
    }

    /** Each peer's home relay, as the peer map has it now. */
    private void relaysFollow(PeerMapEvent event) {
        if (event == null || PeerMapEvent.DNS.equals(event.type()) || PeerMapEvent.RELAYS.equals(event.type())) {
            return;
        }
        Map<Key, String> homes = new java.util.HashMap<>();
        for (PeerInfo info : peers.values()) {
            try {
                homes.put(Key.fromBase64(info.publicKey()), info.homeRelay());
            } catch (RuntimeException e) {
                log.debug("peer {} has a malformed key: {}", info.id(), e.toString());
            }
        }
        relays.peerHomes(homes);
    }

    /**
     * The one applier of this agent's peer map (the control session's actor calls it; a restarted session finds the
     * same one).
     */
    private volatile PeerMapApplier applier;

    private PeerMapApplier peerMapOf(ActorRef<TunnelSupervisor.Command> tunnels) {
        PeerMapApplier existing = applier;
        if (existing == null) {
            synchronized (this) {
                if (applier == null) {
                    applier = new PeerMapApplier(identity.registration().id(), device, tunnels::tell,
                            this::overlayPrefixesFromControl, this::relaysFromControl);
                    applier.organizationPrefixes(identity.registration().overlayPrefixes());
                }
                existing = applier;
            }
        }
        return existing;
    }

    /**
     * A "relays" event: endpoint discovery probes its STUN servers from the next probe on, and the relays follow the
     * list (a home relay no longer listed healthy is left, new relays are measured), off the control session's
     * thread.
     */
    private void relaysFromControl(PeerMapEvent event) {
        if (relayList.update(event.relays(), event.stunServers()) && !closed) {
            scheduler.execute(() -> relays.relaysListed(relayList.relays()));
        }
    }

    /** A snapshot's overlay prefixes: the interface follows them (an identity from before control sent them). */
    private void overlayPrefixesFromControl(List<String> prefixes) {
        if (overlay.hasAddresses(identity.registration().overlayIps(), prefixes)) {
            return;
        }
        try {
            overlay.configure(identity.registration().overlayIps(), prefixes);
        } catch (IOException e) {
            log.error("cannot configure the overlay addresses with prefixes {}: {}", prefixes, e.getMessage());
        }
    }

    /**
     * A renewed certificate: kept in the identity (saved, so a restart uses it) and given to the relay connection,
     * which authenticates with it at once.
     */
    private synchronized void certificateRenewed(io.meshwork.protocol.api.RenewedCertificate renewed) {
        identity = identity.withCertificate(renewed.certificate(), renewed.caCertificate());
        try {
            identity.save(stateDirectory);
        } catch (IOException e) {
            log.warn("could not save the renewed certificate (it is used until the node stops): {}", e.toString());
        }
        try {
            relays.renewCredential(RelayConnection.credential(identity));
        } catch (java.security.cert.CertificateException | RuntimeException e) {
            log.warn("cannot use the renewed certificate with the relays: {}", e.toString());
        }
    }

    // ---- local API ---------------------------------------------------------------------------------------

    @Override
    public NodeStatus status() {
        NodeStatus status = statusReport.build(identity, overlay.current().overlayNote(), peers.values(),
                key -> StatusReport.DevicePeer.of(device.peer(key)), this::relayOf, homeRelay(),
                portMapper.current().orElse(null));
        NodeDns resolver = dns;
        NodeRelayRunner relaying = relayService;
        return new NodeStatus(status.self(), status.peers(), resolver == null ? status.dns() : resolver.status(),
                relaying == null ? null : relaying.status(), routesStatus());
    }

    /** The routes part of the status; null when the node neither advertises nor takes routes. */
    private NodeStatus.Routes routesStatus() {
        RouteAdvertiser advertiser = routeAdvertiser;
        boolean advertises = advertiser != null && advertiser.advertises();
        return RoutesStatus.of(advertises ? advertiser.advertisement() : null, advertises ? advertiser.last() : null,
                forwarding, clientRoutes, id -> {
                    PeerInfo peer = peers.get(id);
                    return peer == null ? null : peer.hostname();
                });
    }

    /** The relay relayed traffic to {@code peer} goes through, and how this node reaches it. */
    private StatusReport.Relay relayOf(Key peer) {
        String name = relays.relayFor(peer);
        if (name == null) {
            return null;
        }
        String transport = relays.connection(name).flatMap(link -> link.status().transport())
                .map(t -> t.name().toLowerCase(java.util.Locale.ROOT)).orElse("udp");
        return new StatusReport.Relay(name, transport);
    }

    private NodeStatus.HomeRelay homeRelay() {
        HomeRelays.Snapshot snapshot = relays.snapshot();
        if (snapshot.home() == null) {
            return null;
        }
        Map<String, Double> latencies = new java.util.LinkedHashMap<>();
        snapshot.latencies().forEach((name, latency) -> latencies.put(name, latency.toNanos() / 1e6));
        return new NodeStatus.HomeRelay(snapshot.home(),
                snapshot.homeLatency() == null ? null : snapshot.homeLatency().toNanos() / 1e6,
                snapshot.homeTransport(), latencies);
    }

    @Override
    public void ping(String target, int count, Consumer<PingReply> replies) {
        pinger.ping(target, count, replies);
    }

    @Override
    public void shutdown() {
        Thread stopper = new Thread(this::close, "node-agent-stop");
        stopper.start();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        certificates.close();
        if (relayService != null) {
            // Withdrawn from the organization's relay list first, while control is still reachable.
            relayService.close();
        }
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("tunnels did not stop in time: {}", e.toString());
        }
        scheduler.shutdownNow();
        stunTimers.shutdownNow();
        portMapper.close();
        if (dns != null) {
            // The host's DNS is put back before the interface it points at goes.
            dns.close();
        }
        localApi.close();
        uapi.close();
        relays.close();
        latencyProbe.close();
        latencySocket.close();
        latencyConnects.shutdownNow();
        newFlowQuestions.shutdownNow();
        if (hostChanges != null) {
            // Forwarding, NAT, routes and rules this node made go before the interface does.
            hostChanges.undoAll();
        }
        device.close();
        stopped.countDown();
    }
}
