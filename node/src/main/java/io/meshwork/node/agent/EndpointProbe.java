package io.meshwork.node.agent;

import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.netcheck.NatProber;
import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.node.portmap.PortMapping;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One probe of this node's endpoints (docs/architecture.md, "Node", endpoint discovery): the host's IPv4
 * addresses at the WireGuard port, a NAT probe against the STUN servers control lists now ({@link RelayList}: the
 * registration's until the peer-map stream sends its own), sent from the WireGuard socket so it measures the
 * mapping WireGuard traffic gets, and the port mapping the gateway holds for the WireGuard port
 * ({@link EndpointReports#withPortMapping}). Blocking (STUN round trips): {@link EndpointDiscovery} runs it on the
 * agent's scheduler.
 */
final class EndpointProbe {

    private static final Logger log = LoggerFactory.getLogger(EndpointProbe.class);

    private final WireGuardDevice device;
    private final Supplier<List<String>> stunServers;
    private final ScheduledExecutorService scheduler;
    private final Consumer<Map<String, Object>> natReport;
    private final Supplier<Optional<PortMapping>> portMapping;
    private volatile Set<String> publicIps = Set.of();

    /**
     * @param stunServers "host[:port]" as control lists them now (port 3478 when none), read at each probe; malformed
     *                    ones are skipped
     * @param scheduler   the NAT prober's timeouts
     * @param natReport   receives the netcheck report of each probe that reached STUN
     * @param portMapping the gateway's mapping of the WireGuard port now, read at each probe
     */
    EndpointProbe(WireGuardDevice device, Supplier<List<String>> stunServers, ScheduledExecutorService scheduler,
            Consumer<Map<String, Object>> natReport, Supplier<Optional<PortMapping>> portMapping) {
        this.device = device;
        this.portMapping = portMapping;
        this.stunServers = stunServers;
        this.scheduler = scheduler;
        this.natReport = natReport;
    }

    /** Runs one probe; without usable STUN servers only the local endpoints. */
    EndpointDiscovery.Discovered run() {
        int port = device.listenPort();
        List<String> localAddresses = localAddresses(device);
        List<InetSocketAddress> servers = new ArrayList<>();
        for (String server : stunServers.get()) {
            try {
                servers.add(HostPort.parse(server, HostPort.DEFAULT_STUN_PORT).resolve());
            } catch (InvalidAddressException e) {
                log.warn("ignoring STUN server {} from control: {}", server, e.getMessage());
            }
        }
        if (servers.isEmpty()) {
            return EndpointReports.withPortMapping(EndpointReports.withoutStun(localAddresses, port),
                    portMapping.get());
        }
        try (NatProber prober = new NatProber(device.transport(), scheduler)) {
            NetcheckResult result = prober.probe(servers, Duration.ofSeconds(4)).get(10, TimeUnit.SECONDS);
            EndpointDiscovery.Discovered discovered = EndpointReports.withPortMapping(
                    EndpointReports.fromNetcheck(localAddresses, port, result), portMapping.get());
            publicIps = discovered.publicIps();
            natReport.accept(discovered.nat());
            return discovered;
        } catch (Exception e) {
            throw new CompletionException(e);
        }
    }

    /**
     * The host's addresses that are endpoints of the WireGuard socket: its IPv4 ones and, when the socket is
     * dual-stack, its global IPv6 ones.
     */
    static List<String> localAddresses(WireGuardDevice device) {
        return canReachIpv6(device) ? LocalAddresses.all() : LocalAddresses.ipv4();
    }

    /** Whether the device's socket sends to IPv6 endpoints (an IPv4-only fallback socket does not). */
    static boolean canReachIpv6(WireGuardDevice device) {
        return !(device.transport() instanceof io.meshwork.node.transport.NettyUdpTransport udp) || udp.dualStack();
    }

    /** This node's public IPs as the last probe that reached STUN saw them; empty before one did. */
    Set<String> publicIps() {
        return publicIps;
    }
}
