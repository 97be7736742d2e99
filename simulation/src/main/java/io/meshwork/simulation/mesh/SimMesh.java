package io.meshwork.simulation.mesh;

import io.meshwork.relay.server.RelayEngine;
import io.meshwork.simulation.PekkoSimScheduler;
import io.meshwork.simulation.SimStunServer;
import io.meshwork.simulation.Simulation;
import io.meshwork.simulation.Site;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;

/**
 * The node's real path logic ({@link io.meshwork.node.tunnel.TunnelSupervisor} and its PeerTunnel actors, the
 * probe codec, the NAT prober, the relay client) on a simulated internet: an RFC 5780 STUN server on two public
 * IPs, the real relay ({@link SimRelay}), an in-memory control that keeps each organization's peer map and streams
 * it with the real API's messages ({@link SimControl}), and nodes behind simulated NATs. Everything runs on one
 * virtual clock, actors on the thread driving it, so one seed gives one run.
 *
 * <pre>{@code
 * try (SimMesh mesh = SimMesh.withSeed(7)) {
 *     SimNode a = mesh.node("a", NatPreset.FULL_CONE.build(mesh.network(), "home"));
 *     SimNode b = mesh.node("b", NatPreset.SYMMETRIC_SEQUENTIAL.build(mesh.network(), "cafe"));
 *     mesh.group(a, b);
 *     mesh.runUntil(() -> a.isDirectTo(b) && b.isDirectTo(a), Duration.ofSeconds(60));
 * }
 * }</pre>
 */
public final class SimMesh implements AutoCloseable {

    /**
     * The one-way delay of a node's TCP connection to the relay, for nodes whose UDP is blocked (over UDP the
     * relay is as far as the virtual network's links make it).
     */
    public static final Duration RELAY_DELAY = Duration.ofMillis(25);

    /** What a node authenticates to the relay with. */
    public enum Credentials {
        /** A device certificate from the mesh's CA, which the relay trusts. */
        TRUSTED,
        /** A well-formed device certificate from a CA the relay does not trust. */
        OTHER_CA
    }

    private final long seed;
    private final Simulation simulation;
    private final ActorTestKit actors;
    private final SimStunServer stun;
    /** STUN over IPv6, as a relay's {@code --stun6}: dual-stack nodes learn their IPv6 reflexive endpoints there. */
    private final SimStunServer stun6;
    private final SimRelay relay;
    private final SimControl control;
    private final List<SimNode> nodes = new ArrayList<>();
    /** Every relay, the first one first: the relay list control hands every node, in its order. */
    private final List<SimRelay> relays = new ArrayList<>();
    private boolean renewCertificates;

    private SimMesh(long seed) {
        this.seed = seed;
        this.simulation = Simulation.withSeed(seed);
        this.actors = ActorTestKit.create("sim-mesh-" + seed, com.typesafe.config.ConfigFactory.parseString(
                PekkoSimScheduler.config(simulation.scheduler())));
        this.stun = SimStunServer.rfc5780(simulation.network(), "stun", "203.0.113.10", "203.0.113.11",
                SimStunServer.DEFAULT_PORT);
        this.stun6 = SimStunServer.ipv6(simulation.network(), "stun6", "203.0.113.12", SimStunServer.DEFAULT_PORT);
        this.relay = new SimRelay(simulation, RELAY_DELAY);
        this.relays.add(relay);
        this.control = new SimControl(simulation);
    }

    public static SimMesh withSeed(long seed) {
        return new SimMesh(seed);
    }

    /**
     * Device certificates of the nodes created from now on are valid for {@code lifetime} and renewed by the
     * node's real {@link io.meshwork.node.agent.CertificateRenewer} at two thirds of it (unless {@code renew} is
     * false); a renewal revokes the certificate it replaces at the relay {@code grace} later. As control's
     * device-certificate-lifetime and -renewal-grace.
     */
    public SimMesh shortLivedCertificates(Duration lifetime, Duration grace, boolean renew) {
        relay.certificateLifetime(lifetime, grace);
        this.renewCertificates = renew;
        return this;
    }

    /** How many device certificates were renewed. */
    public int certificateRenewals() {
        return relay.renewals();
    }

    boolean renewCertificates() {
        return renewCertificates;
    }

    /** A node on a new host in {@code site}; it starts discovering its endpoints at once. */
    public SimNode node(String name, Site site) {
        return node(name, site, Credentials.TRUSTED);
    }

    /** As {@link #node(String, Site)}, authenticating to the relay with {@code credentials}. */
    public SimNode node(String name, Site site, Credentials credentials) {
        return node(name, site.addHost(name), credentials);
    }

    /** A node on {@code host}, a host the caller added (and perhaps changed, such as taking its IPv6 away). */
    public SimNode node(String name, io.meshwork.simulation.Host host) {
        return node(name, host, Credentials.TRUSTED);
    }

    private SimNode node(String name, io.meshwork.simulation.Host host, Credentials credentials) {
        SimNode node = new SimNode(this, name, host, nodes.size(), credentials);
        nodes.add(node);
        node.start();
        return node;
    }

    /**
     * Makes {@code members} a new organization: each registers with control and follows the peer map, so it learns
     * the others from its snapshot and learns again whenever one reports new endpoints. A node joins one
     * organization only. Returns the organization's id.
     */
    public String group(SimNode... members) {
        for (SimNode member : members) {
            if (member.deviceId() != null) {
                throw new IllegalStateException(member + " already belongs to an organization");
            }
        }
        String organizationId = control.createOrganization();
        for (SimNode member : members) {
            member.join(control, organizationId);
        }
        return organizationId;
    }

    /**
     * Deletes {@code node}'s device from its organization at control: its peers get a removal on their streams
     * and drop their tunnels to it, and its own stream ends.
     */
    public void removeFromOrganization(SimNode node) {
        control.remove(node.deviceId());
    }

    /** The in-memory control: organizations, devices, revisions. */
    public SimControl control() {
        return control;
    }

    /**
     * Restarts the relay process: it says goodbye to every client and drops all its sessions, is down for
     * {@code outage}, then listens again with a new key; the nodes' relay clients reconnect on their own.
     */
    public void restartRelay(Duration outage) {
        relay.restart(outage);
    }

    /**
     * Kills the relay process: no goodbyes, every session lost, down for {@code outage}, then a new process with
     * a new key; the nodes' relay clients notice on their own (a reset TCP stream, or an "unauthenticated" answer
     * to their next keepalive over UDP) and reconnect.
     */
    public void crashRelay(Duration outage) {
        relay.crash(outage);
    }

    /**
     * Adds a relay {@code name} at {@code ip} (a public address) to the end of the relay list: it trusts the same CA.
     * Nodes keep the relay with the lowest latency as their home and fail over to the next-best
     * (docs/architecture.md, "Relay selection and failover").
     */
    public SimMesh addRelay(String name, String ip) {
        relays.add(relay.sibling(name, ip, RELAY_DELAY));
        return this;
    }

    /**
     * Adds a relay as {@link #addRelay(String, String)} does, in {@code region} of the virtual network: nodes of
     * sites placed in another region reach it {@link io.meshwork.simulation.VirtualNetwork#setRegionLatency that
     * much} later each way.
     */
    public SimMesh addRelay(String name, String ip, String region) {
        addRelay(name, ip);
        relayNamed(name).placeIn(region);
        return this;
    }

    /** Puts relay {@code name} (the first one is "relay") in {@code region}. */
    public SimMesh placeRelay(String name, String region) {
        relayNamed(name).placeIn(region);
        return this;
    }

    /** The relay list control hands every node, in its order. */
    public List<io.meshwork.protocol.api.RelayInfo> relayList() {
        return relays.stream().map(SimRelay::info).toList();
    }

    /** Kills relay {@code name} as {@link #crashRelay(Duration)} does the first one. */
    public void crashRelay(String name, Duration outage) {
        relayNamed(name).crash(outage);
    }

    /** Relay {@code name} when it is running. */
    public Optional<RelayEngine> relayEngine(String name) {
        return relayNamed(name).engine();
    }

    SimRelay relayNamed(String name) {
        return relays.stream().filter(r -> r.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no relay " + name));
    }

    /** The relays, in the order of the list every node has. */
    List<SimRelay> relays() {
        return relays;
    }

    /** Revokes {@code node}'s device certificate at the relay: its session is closed and it cannot come back. */
    public void revokeAtRelay(SimNode node) {
        relay.revoke(node.certificateSerial());
    }

    /** The running relay (its sessions and counters), or empty while it is down for a restart. */
    public Optional<RelayEngine> relayEngine() {
        return relay.engine();
    }

    public Simulation simulation() {
        return simulation;
    }

    public io.meshwork.simulation.VirtualNetwork network() {
        return simulation.network();
    }

    public boolean runUntil(java.util.function.BooleanSupplier condition, Duration limit) {
        return simulation.runUntil(condition, limit);
    }

    public void advance(Duration duration) {
        simulation.advance(duration);
    }

    /** Virtual time since the start. */
    public Duration now() {
        return simulation.now();
    }

    long seed() {
        return seed;
    }

    ActorTestKit actors() {
        return actors;
    }

    SimRelay relay() {
        return relay;
    }

    List<InetSocketAddress> stunServers() {
        return List.of(stun.primary());
    }

    /** The IPv6 STUN servers a node asks for its IPv6 reflexive endpoint. */
    List<InetSocketAddress> ipv6StunServers() {
        return List.of(stun6.primary());
    }

    /** The server answering STUN over IPv6. */
    public SimStunServer ipv6Stun() {
        return stun6;
    }

    @Override
    public void close() {
        nodes.forEach(SimNode::close);
        actors.shutdownTestKit();
    }
}
