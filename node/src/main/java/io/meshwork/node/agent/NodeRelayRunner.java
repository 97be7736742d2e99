package io.meshwork.node.agent;

import io.meshwork.node.local.NodeStatus;
import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.relay.NodeRelayService;
import io.meshwork.protocol.tls.CertificatePin;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code node up --relay}: the relay this node runs for its own organization (docs/architecture.md, "Relay
 * scopes"), found with {@link ServiceLoader} (the relay module provides it). It advertises
 * {@code --relay-public-address}, else the public address STUN found for this node, else (once STUN had
 * {@link #STUN_PATIENCE} to answer) this host's first IPv4 address. Nothing here stops the node: a relay that
 * cannot run says why in the log and in {@code meshwork status}.
 */
final class NodeRelayRunner implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NodeRelayRunner.class);
    /** How long the relay waits for a STUN-discovered address before it advertises a local one. */
    static final Duration STUN_PATIENCE = Duration.ofSeconds(10);

    private final NodeRelayService.Running running;
    private final String unavailable;

    private NodeRelayRunner(NodeRelayService.Running running, String unavailable) {
        this.running = running;
        this.unavailable = unavailable;
    }

    /**
     * Starts the relay; never throws. {@code stunAddresses}: the public IPs this node's STUN probes found (empty
     * before the first answer).
     */
    static NodeRelayRunner start(NodeAgent.RelayOptions options, URI control, CertificatePin controlPin,
            NodeIdentity identity, Supplier<? extends java.util.Collection<String>> stunAddresses) {
        var registration = identity.registration();
        Optional<NodeRelayService> service = ServiceLoader.load(NodeRelayService.class).findFirst();
        if (service.isEmpty()) {
            String why = "this build of meshwork has no relay service (the relay module is not on the class path)";
            log.error("not relaying: {}", why);
            return new NodeRelayRunner(null, why);
        }
        long startedNanos = System.nanoTime();
        Supplier<Optional<InetAddress>> address = () -> advertised(options.publicAddress(), stunAddresses.get(),
                System.nanoTime() - startedNanos >= STUN_PATIENCE.toNanos(), LocalAddresses::ipv4);
        try {
            return new NodeRelayRunner(service.get().start(new NodeRelayService.Settings(control, controlPin,
                    registration.id(), organizationOf(registration.id(), registration.organizationId()),
                    registration.token(), identity.hostname(),
                    options.port(), address)), null);
        } catch (Exception e) {
            log.error("not relaying: the relay service did not start: {}", e.getMessage());
            return new NodeRelayRunner(null, "the relay service did not start: " + e.getMessage());
        }
    }

    /**
     * The address to advertise: the one given, else the first STUN-discovered one, else (when STUN had its chance)
     * the first local one; empty while there is none yet.
     */
    static Optional<InetAddress> advertised(InetAddress given, java.util.Collection<String> stun,
            boolean stunHadItsChance,
            Supplier<List<String>> local) {
        if (given != null) {
            return Optional.of(given);
        }
        for (String ip : stun) {
            Optional<InetAddress> parsed = parse(ip);
            if (parsed.isPresent()) {
                return parsed;
            }
        }
        if (stunHadItsChance) {
            for (String ip : local.get()) {
                Optional<InetAddress> parsed = parse(ip);
                if (parsed.isPresent()) {
                    return parsed;
                }
            }
        }
        return Optional.empty();
    }

    /** The organization from the registration, or from the device id ("ORG-d…") in an identity that lacks it. */
    static String organizationOf(String deviceId, String organizationId) {
        if (organizationId != null && !organizationId.isBlank()) {
            return organizationId;
        }
        int dash = deviceId.indexOf('-');
        return dash > 0 ? deviceId.substring(0, dash) : deviceId;
    }

    private static Optional<InetAddress> parse(String ip) {
        try {
            return Optional.of(IpLiteral.parse(ip));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    NodeStatus.RelayService status() {
        if (running == null) {
            return new NodeStatus.RelayService("failed", null, 0, 0, 0, unavailable);
        }
        NodeRelayService.Status status = running.status();
        return new NodeStatus.RelayService(status.state(), status.address(),
                status.udpClients() + status.tcpClients(), status.udpClients(), status.tcpClients(), status.detail());
    }

    @Override
    public void close() {
        if (running != null) {
            running.close();
        }
    }
}
