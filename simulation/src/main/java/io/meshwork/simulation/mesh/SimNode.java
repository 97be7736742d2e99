package io.meshwork.simulation.mesh;

import io.meshwork.node.agent.CertificateRenewer;
import io.meshwork.node.agent.EndpointDiscovery;
import io.meshwork.node.agent.EndpointReports;
import io.meshwork.node.agent.PeerFacts;
import io.meshwork.node.netcheck.FreshBinding;
import io.meshwork.node.netcheck.NatProber;
import io.meshwork.node.netcheck.StunClient;
import io.meshwork.protocol.stun.RetransmissionSchedule;
import io.meshwork.protocol.stun.StunClass;
import io.meshwork.node.relay.HomeRelays;
import io.meshwork.node.relay.RelayClient;
import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayClientRuntime;
import io.meshwork.node.relay.RelayDatagramRouter;
import io.meshwork.node.relay.RelayLatencyProbe;
import io.meshwork.node.relay.RelayLink;
import io.meshwork.node.relay.RelayListener;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.node.relay.RelayStreamConnector;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.node.tunnel.ProbeRouter;
import io.meshwork.node.tunnel.TunnelPeer;
import io.meshwork.node.tunnel.TunnelPort;
import io.meshwork.node.tunnel.TunnelSettings;
import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.node.tunnel.TunnelSupervisor;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.RenewedCertificate;
import io.meshwork.protocol.nat.NatReport;
import io.meshwork.protocol.probe.ProbeCodec;
import io.meshwork.protocol.probe.ProbeMessage;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.protocol.wireguard.Key;
import io.meshwork.simulation.Host;
import io.meshwork.simulation.PekkoSimScheduler;
import io.meshwork.simulation.VirtualTransport;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;

/**
 * One node in the simulation: the real tunnel supervisor and PeerTunnel actors, the real probe codec and router,
 * the real NAT prober and the real relay client (with a device certificate for the node's key), on one virtual UDP
 * socket. What the node agent does with WireGuard is modelled by WireGuard-shaped data datagrams sent on the path
 * the tunnel chose (to the endpoint, or through the relay), so a test can check that the chosen path really
 * carries traffic through the NATs both ways.
 *
 * <p>Its peers come from {@link SimControl} as the agent's come from control: the agent's {@link EndpointDiscovery}
 * probes (at start, every {@link #PROBE_INTERVAL}, when the host's address changes, when a direct path died), each
 * netcheck is reported as the agent reports it ({@link EndpointReports}), and the node follows its peer-map stream
 * and hands each peer to its tunnels through {@link PeerFacts}, the agent's own reading of a peer-map entry.
 */
public final class SimNode {

    /** The port every node's socket binds, as WireGuard's listen port. */
    public static final int PORT = 51820;
    /** How often a node probes its endpoints again, as {@code node up} does by default. */
    public static final Duration PROBE_INTERVAL = Duration.ofSeconds(30);

    private final SimMesh mesh;
    private final String name;
    private final long relaySeed;
    private final Host host;
    private final Key privateKey;
    private final Key publicKey;
    private final RelayKeyPair relayKeys;
    private SimRelay.Enrollment enrollment;
    private CertificateRenewer certificates;
    /** What the relay's CA answered the renewal in progress, taken on when the renewer hands it over. */
    private SimRelay.Enrollment renewedEnrollment;
    private final VirtualTransport socket;
    private final ProbeRouter probes;
    private final ActorRef<TunnelSupervisor.Command> supervisor;
    /** The peer map as the stream has delivered it, by device id. */
    private final Map<String, PeerInfo> peers = new LinkedHashMap<>();
    private final Set<Key> peerKeys = new LinkedHashSet<>();
    private final List<PeerMapEvent> peerMapEvents = new ArrayList<>();
    private final Map<Key, TunnelStatus> statuses = new HashMap<>();
    private final Map<Key, Duration> firstDirect = new HashMap<>();
    private final Map<Key, InetSocketAddress> directEndpoint = new HashMap<>();
    private final Map<Key, Integer> dataReceived = new HashMap<>();
    /** The node's relays as the agent keeps them: a home relay by latency, peers' home relays on demand. */
    private HomeRelays relays;
    private final RelayDatagramRouter relayDatagrams;
    private VirtualTransport probeSocket;
    private RelayLatencyProbe latencyProbe;
    private NatReport nat;
    private EndpointDiscovery.Discovered discovered;
    private SimControl control;
    private String deviceId;
    private boolean removed;
    private ActorRef<EndpointDiscovery.Command> discovery;
    private boolean closed;
    /** Asks which port the socket's new flows get (the tunnels' turn-taking after a conntrack collision). */
    private final FreshBinding freshBinding;
    /** The STUN work on the socket, one at a time (a netcheck, a fresh binding): each holds the socket's STUN handler. */
    private CompletableFuture<?> stunWork = CompletableFuture.completedFuture(null);

    SimNode(SimMesh mesh, String name, Host host, int index, SimMesh.Credentials credentials) {
        this.mesh = mesh;
        this.name = name;
        this.host = host;
        byte[] secret = new byte[Key.LENGTH];
        mesh.simulation().scheduler().random().nextBytes(secret);
        this.privateKey = Key.of(secret);
        this.publicKey = privateKey.publicKey();
        this.relaySeed = mesh.simulation().scheduler().random().nextLong();
        this.relayKeys = RelayKeyPair.fromPrivateKey(secret);
        this.enrollment = credentials == SimMesh.Credentials.OTHER_CA ? SimRelay.enrollElsewhere(name, relayKeys)
                : mesh.relay().enroll(name, relayKeys);
        this.socket = host.bind(PORT);
        this.freshBinding = new FreshBinding(mesh.simulation().scheduler()::nowNanos);
        TunnelSupervisor.Wiring wiring = new TunnelSupervisor.Wiring(SimPort::new, this::statusChanged,
                TunnelSettings.defaults(), mesh.simulation().scheduler()::nowNanos, mesh.seed() * 1000 + index,
                DispatcherSelector.fromConfig(PekkoSimScheduler.CALLING_THREAD_DISPATCHER));
        TunnelPeer self = PeerFacts.forSelf(List.of(), Map.of(), PORT, localAddresses());
        this.supervisor = mesh.actors().spawn(TunnelSupervisor.create(wiring, self), "node-" + name,
                DispatcherSelector.fromConfig(PekkoSimScheduler.CALLING_THREAD_DISPATCHER));
        this.probes = new ProbeRouter(new ProbeCodec(privateKey), peerKeys::contains, supervisor);
        socket.register(DatagramKind.PROBE, probes::onDatagram);
        socket.register(DatagramKind.WIREGUARD, (datagram, sender) -> received(datagram));
        this.relayDatagrams = new RelayDatagramRouter(socket);
    }

    public String name() {
        return name;
    }

    public Host host() {
        return host;
    }

    public Key publicKey() {
        return publicKey;
    }

    /** The latest NAT report, or null before the first probe finished. */
    public NatReport nat() {
        return nat;
    }

    /** This node's device id in its organization, or null before it joined one. */
    public String deviceId() {
        return deviceId;
    }

    /** What the peer map said of {@code peer} last, or null when it holds no such peer. */
    public PeerInfo peerInfo(SimNode peer) {
        return peer.deviceId == null ? null : peers.get(peer.deviceId);
    }

    /** Every peer-map event this node received, in order. */
    public List<PeerMapEvent> peerMapEvents() {
        return List.copyOf(peerMapEvents);
    }

    /** The revision of the last peer-map event received, 0 before the first. */
    public long peerMapRevision() {
        return peerMapEvents.isEmpty() ? 0 : peerMapEvents.get(peerMapEvents.size() - 1).revision();
    }

    /** Whether control ended this node's stream because its device was removed. */
    public boolean removedByControl() {
        return removed;
    }

    /** The tunnel's latest status towards {@code peer}, or null before there is one. */
    public TunnelStatus statusTo(SimNode peer) {
        return statuses.get(peer.publicKey);
    }

    public boolean isDirectTo(SimNode peer) {
        TunnelStatus status = statusTo(peer);
        return status != null && status.state() == TunnelStatus.State.DIRECT;
    }

    /** When the tunnel to {@code peer} first went direct, or null if it never did. */
    public Duration firstDirectTo(SimNode peer) {
        return firstDirect.get(peer.publicKey);
    }

    /**
     * How the relay carries this node's traffic: the relay client's transport once connected (TCP where UDP is
     * blocked), before that the one it will end up on by the node's NAT report.
     */
    public String relayTransport() {
        RelayStatus status = relayStatus();
        if (status != null && status.connected()) {
            return status.transport().orElseThrow() == Transport.TCP ? "tcp" : "udp";
        }
        return nat != null && !nat.udpReachable() ? "tcp" : "udp";
    }

    /** The home relay client's status, or null without a home relay. */
    public RelayStatus relayStatus() {
        RelayLink home = relays == null ? null : relays.homeClient();
        return home == null ? null : home.status();
    }

    /** Data datagrams received from {@code peer} (by any path). */
    public int dataFrom(SimNode peer) {
        return dataReceived.getOrDefault(peer.publicKey, 0);
    }

    /** Sends one data datagram to {@code peer} on the path its tunnel chose. */
    public void sendData(SimNode peer) {
        ByteBuffer datagram = ByteBuffer.allocate(4 + Key.LENGTH);
        datagram.put((byte) 4).put((byte) 0).put((byte) 0).put((byte) 0);
        publicKey.copyTo(datagram.array(), 4);
        datagram.position(0);
        InetSocketAddress endpoint = directEndpoint.get(peer.publicKey);
        if (endpoint != null) {
            socket.send(datagram, endpoint);
        } else {
            relays.sendPacket(peer.publicKey, datagram);
        }
    }

    void start() {
        // As the agent: latencies from a socket of the probe's own, the home relay chosen by them, checked every
        // second (failover, idle connections, measuring again every 60 s).
        probeSocket = host.bind(PORT + 1);
        latencyProbe = new RelayLatencyProbe(probeSocket, mesh.simulation().executor(),
                mesh.simulation().scheduler()::nowNanos, this::openTcp);
        relays = new HomeRelays(this::connectRelay, latencyProbe::measure, new RelayListener() {
            @Override
            public void onPacket(RelayKey source, ByteBuffer payload) {
                received(payload);
            }

            @Override
            public void onDisco(RelayKey source, ByteBuffer payload) {
                probes.onRelayed(payload);
            }
        }, home -> {
            if (deviceId != null && discovered != null && !removed && !closed) {
                report();
            }
        }, mesh.simulation().executor(), mesh.simulation().scheduler()::nowNanos);
        relays.relaysListed(mesh.relayList());
        mesh.simulation().executor().scheduleWithFixedDelay(() -> {
            if (!closed) {
                relays.tick();
            }
        }, 1, 1, TimeUnit.SECONDS);
        if (mesh.relay().shortLivedCertificates() && mesh.renewCertificates()) {
            certificates = new CertificateRenewer(mesh.simulation().executor(), () -> enrollment.pem(),
                    () -> {
                        renewedEnrollment = mesh.relay().renew(name, relayKeys, enrollment.serial());
                        return new RenewedCertificate(renewedEnrollment.pem(), null,
                                renewedEnrollment.serial().toString(16), 0);
                    }, renewed -> {
                        enrollment = renewedEnrollment;
                        relays.renewCredential(enrollment.credential());
                    }, mesh.relay().clock());
            certificates.start();
        }
        discovery = mesh.actors().spawn(EndpointDiscovery.createAsync(this::probe, this::localAddresses,
                        PROBE_INTERVAL, this::discovered), "discovery-" + name,
                DispatcherSelector.fromConfig(PekkoSimScheduler.CALLING_THREAD_DISPATCHER));
    }

    /** A relay client to {@code info}'s relay, as the agent opens one, on virtual time. */
    private Optional<RelayLink> connectRelay(RelayInfo info, RelayListener listener, boolean tcpFirst) {
        SimRelay target = mesh.relayNamed(info.name());
        RelayClientRuntime runtime = new RelayClientRuntime(mesh.simulation().executor(),
                mesh.simulation().scheduler()::nowNanos, new Random(relaySeed),
                Optional.of(target.streamsFrom(host)));
        return Optional.of(RelayClient.start(target.address(), enrollment.credential(),
                relayDatagrams.forRelay(target.address().udp().orElseThrow()), listener,
                RelayClientConfig.defaults().withTcpFirst(tcpFirst), runtime));
    }

    /** A TCP connection to a relay for the latency probe: completes true once open, then closes it. */
    private CompletionStage<Boolean> openTcp(InetSocketAddress address) {
        CompletableFuture<Boolean> opened = new CompletableFuture<>();
        SimRelay target = mesh.relays().stream().filter(relay -> relay.address().tcp().orElseThrow().equals(address))
                .findFirst().orElse(null);
        if (target == null) {
            opened.complete(false);
            return opened;
        }
        target.streamsFrom(host).connect(address, new RelayStreamConnector.Events() {
            @Override
            public void opened(RelayStreamConnector.Stream stream) {
                stream.close();
                opened.complete(true);
            }

            @Override
            public void failed(java.io.IOException error) {
                opened.complete(false);
            }

            @Override
            public void received(RelayFrame frame) {
            }

            @Override
            public void closed() {
            }
        });
        return opened;
    }

    /** The name of this node's home relay. */
    public String relayName() {
        return relays.homeName();
    }

    /** The relay this node's relayed traffic to {@code peer} goes through now. */
    public String relayTo(SimNode peer) {
        return relays.relayFor(peer.publicKey);
    }

    /** The home relay, its latency, every relay's measured latency and the connections open. */
    public HomeRelays.Snapshot relays() {
        return relays.snapshot();
    }

    /** How often this node moved to another home relay. */
    public int relayMoves() {
        return relays.moves();
    }

    /** The certificate serial the relay knows this node's device by. */
    BigInteger certificateSerial() {
        return enrollment.serial();
    }

    /**
     * Registers with {@code control} in {@code organizationId}, reports the latest discovery if there is one (the
     * next would anyway) and follows the peer map from its snapshot.
     */
    void join(SimControl control, String organizationId) {
        register(control, organizationId);
        control.follow(deviceId, this::apply, this::removedByControlNow);
    }

    /**
     * As {@link #join(SimControl, String)}, but the node follows the peer map only {@code followAfter} later, as a
     * freshly started agent (a cold JVM in the lab) opens its peer-map stream a moment after it registered: its
     * peers learn its endpoints and probe it before it knows them.
     */
    void join(SimControl control, String organizationId, Duration followAfter) {
        register(control, organizationId);
        mesh.simulation().executor().schedule(() -> {
            if (!closed) {
                control.follow(deviceId, this::apply, this::removedByControlNow);
            }
        }, followAfter.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Registers with {@code control} in {@code organizationId} and reports the latest discovery if there is one. */
    private void register(SimControl control, String organizationId) {
        if (deviceId != null) {
            throw new IllegalStateException(name + " already belongs to an organization");
        }
        this.control = control;
        this.deviceId = control.register(organizationId, name, publicKey.toBase64());
        if (discovered != null) {
            report();
        }
    }

    /** One netcheck on the node's socket, turned into the report the agent sends ({@link EndpointReports}). */
    private CompletionStage<EndpointDiscovery.Discovered> probe() {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException(name + " is closed"));
        }
        List<String> localAddresses = localAddresses();
        CompletableFuture<Optional<InetSocketAddress>> ipv6 = new CompletableFuture<>();
        return stun(() -> {
            NatProber prober = new NatProber(socket, mesh.simulation().executor());
            return prober.probe(mesh.stunServers(), NatProber.DEFAULT_TIMEOUT)
                    .whenComplete((done, failure) -> prober.close())
                    .thenCompose(result -> ipv6Reflexive(localAddresses).thenApply(mapped -> {
                        ipv6.complete(mapped);
                        return result;
                    }));
        }).thenApply(result -> {
            nat = result.report();
            freshBinding.netcheckDone(result);
            return EndpointReports.withIpv6Reflexive(EndpointReports.fromNetcheck(localAddresses, PORT, result),
                    ipv6.getNow(Optional.empty()));
        });
    }

    /**
     * STUN over IPv6 as the agent's endpoint probe does it: one Binding request from the node's socket to the IPv6
     * STUN server, when the host has a global IPv6 address; the reflexive endpoint it names, if it answers.
     */
    private CompletableFuture<Optional<InetSocketAddress>> ipv6Reflexive(List<String> localAddresses) {
        if (localAddresses.stream().noneMatch(address -> address.contains(":"))) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        StunClient client = new StunClient(socket, mesh.simulation().executor());
        return client.request(mesh.ipv6StunServers().get(0), List.of(),
                        RetransmissionSchedule.RFC_8489_DEFAULT.withBudget(Duration.ofSeconds(2)))
                .handle((response, failure) -> {
                    client.close();
                    if (failure != null || response == null) {
                        return Optional.<InetSocketAddress>empty();
                    }
                    return response.filter(r -> r.message().messageClass() == StunClass.SUCCESS_RESPONSE)
                            .flatMap(r -> r.message().mappedAddress());
                });
    }

    /** Runs {@code work} on the socket's STUN handler once the STUN work before it is done. */
    private <T> CompletableFuture<T> stun(java.util.function.Supplier<CompletableFuture<T>> work) {
        CompletableFuture<T> next = stunWork.handle((done, failure) -> null).thenCompose(ignored -> work.get());
        stunWork = next;
        return next;
    }

    /** A discovery's outcome, handled as the agent handles it: the tunnels learn it, control gets the report. */
    private void discovered(EndpointDiscovery.Discovered result) {
        if (closed) {
            return;
        }
        if (discovered != null && !discovered.endpoints().equals(result.endpoints())) {
            // The node's network changed: the relays' latencies may have too.
            relays.measureNow("the node's endpoints changed");
        }
        discovered = result;
        supervisor.tell(new TunnelSupervisor.SelfUpdated(PeerFacts.forSelf(result.endpoints(), result.nat(), PORT,
                localAddresses())));
        if (deviceId != null && !removed) {
            report();
        }
    }

    private void report() {
        control.report(deviceId, new EndpointReport(discovered.endpoints(), discovered.nat(), relays.homeName()));
    }

    /** One peer-map event, applied as the agent applies it. */
    private void apply(PeerMapEvent event) {
        if (closed) {
            return;
        }
        peerMapEvents.add(event);
        switch (event.type()) {
            case PeerMapEvent.SNAPSHOT -> {
                Set<String> present = new LinkedHashSet<>();
                event.peers().forEach(peer -> present.add(peer.id()));
                for (String id : List.copyOf(peers.keySet())) {
                    if (!present.contains(id)) {
                        removePeer(id);
                    }
                }
                event.peers().forEach(this::upsertPeer);
            }
            case PeerMapEvent.UPSERT -> event.peers().forEach(this::upsertPeer);
            case PeerMapEvent.REMOVE -> event.removed().forEach(this::removePeer);
            default -> { }
        }
    }

    private void upsertPeer(PeerInfo info) {
        if (info.id().equals(deviceId)) {
            return;
        }
        peers.put(info.id(), info);
        Key key = Key.fromBase64(info.publicKey());
        peerKeys.add(key);
        relays.peerHome(key, info.homeRelay());
        supervisor.tell(new TunnelSupervisor.PeerUpserted(key, PeerFacts.fromPeer(info)));
    }

    private void removePeer(String id) {
        PeerInfo info = peers.remove(id);
        if (info != null) {
            Key key = Key.fromBase64(info.publicKey());
            peerKeys.remove(key);
            relays.forgetPeer(key);
            supervisor.tell(new TunnelSupervisor.PeerRemoved(key));
        }
    }

    /** Control ended the stream: the device is gone, and the node lets go of every peer as the agent stops. */
    private void removedByControlNow() {
        removed = true;
        List.copyOf(peers.keySet()).forEach(this::removePeer);
    }

    /**
     * The host's IPv4 addresses followed by its global IPv6 ones, as the agent lists its interfaces' addresses
     * for a dual-stack socket (LocalAddresses.all).
     */
    private List<String> localAddresses() {
        List<String> addresses = new ArrayList<>();
        host.addresses().stream().filter(address -> address instanceof Inet4Address)
                .forEach(address -> addresses.add(address.getHostAddress()));
        host.addresses().stream().filter(address -> address instanceof java.net.Inet6Address)
                .forEach(address -> addresses.add(address.getHostAddress()));
        return addresses;
    }

    private void statusChanged(Key peer, TunnelStatus status) {
        if (status == null) {
            statuses.remove(peer);
            return;
        }
        statuses.put(peer, status);
        if (status.state() == TunnelStatus.State.DIRECT) {
            firstDirect.putIfAbsent(peer, mesh.now());
        }
    }

    private void received(ByteBuffer datagram) {
        if (datagram.remaining() < 4 + Key.LENGTH) {
            return;
        }
        byte[] sender = new byte[Key.LENGTH];
        datagram.duplicate().position(datagram.position() + 4).get(sender);
        dataReceived.merge(Key.of(sender), 1, Integer::sum);
    }

    private static RelayKey relayKey(Key key) {
        return RelayKey.of(key.toBytes());
    }

    void close() {
        closed = true;
        if (certificates != null) {
            certificates.close();
        }
        relays.close();
        latencyProbe.close();
        probeSocket.close();
        socket.close();
    }

    /** The tunnel's hands on this simulated node. */
    private final class SimPort implements TunnelPort {
        private final Key peer;

        SimPort(Key peer) {
            this.peer = peer;
        }

        @Override
        public void sendDirect(InetSocketAddress endpoint, ProbeMessage message) {
            socket.send(probes.seal(peer, message), endpoint);
        }

        @Override
        public boolean sendDirectLimited(InetSocketAddress endpoint, ProbeMessage message, int ttl) {
            return socket.sendWithTtl(probes.seal(peer, message), endpoint, ttl);
        }

        @Override
        public boolean opensFirst() {
            return publicKey().toHex().compareTo(peer.toHex()) < 0;
        }

        @Override
        public boolean learnNewFlowEndpoint(java.util.function.Consumer<Optional<InetSocketAddress>> answer) {
            if (closed || !freshBinding.canAsk()) {
                return false;
            }
            stun(() -> freshBinding.ask(socket, mesh.simulation().executor()))
                    .whenComplete((endpoint, failure) -> answer.accept(failure != null ? Optional.empty() : endpoint));
            return true;
        }

        @Override
        public boolean sendViaRelay(ProbeMessage message) {
            return relays.sendDisco(peer, probes.seal(peer, message));
        }

        @Override
        public void useDirect(InetSocketAddress endpoint) {
            directEndpoint.put(peer, endpoint);
        }

        @Override
        public void useRelay() {
            directEndpoint.remove(peer);
        }

        @Override
        public void rediscoverEndpoints() {
            if (!closed) {
                discovery.tell(new EndpointDiscovery.ProbeNow("a direct path died"));
            }
        }

        @Override
        public void close() {
            directEndpoint.remove(peer);
            probes.forget(peer);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
