package io.meshwork.node.agent;

import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.netcheck.FreshBinding;
import io.meshwork.node.netcheck.NatProber;
import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.node.netcheck.StunClient;
import io.meshwork.node.portmap.PortMapping;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.stun.RetransmissionSchedule;
import io.meshwork.protocol.stun.StunClass;
import java.net.Inet6Address;
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
 * ({@link EndpointReports#withPortMapping}). On a dual-stack socket also the host's global IPv6 addresses and, by a
 * STUN Binding request to an IPv6 STUN server control lists, the IPv6 reflexive endpoint. Blocking (STUN round
 * trips): {@link EndpointDiscovery} runs it on the agent's scheduler.
 */
final class EndpointProbe {

    private static final Logger log = LoggerFactory.getLogger(EndpointProbe.class);

    private final WireGuardDevice device;
    private final Supplier<List<String>> stunServers;
    private final ScheduledExecutorService scheduler;
    private final Consumer<Map<String, Object>> natReport;
    private final Supplier<Optional<PortMapping>> portMapping;
    private volatile Set<String> publicIps = Set.of();
    /** Which port new flows of the WireGuard socket get: asked by tunnels taking turns after a conntrack collision. */
    private final FreshBinding freshBinding = new FreshBinding(System::nanoTime);
    /** Held by each STUN client's use of the WireGuard socket: one client at a time owns its STUN handler. */
    private final Object stun = new Object();

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

    /** How long the quick first Binding request waits for the first STUN server ({@link #run(Consumer)}). */
    static final Duration PRELIMINARY_WAIT = Duration.ofSeconds(1);

    /** Runs one probe; without usable STUN servers only the local endpoints. */
    EndpointDiscovery.Discovered run() {
        return run(null);
    }

    /**
     * Runs one probe. With {@code preliminary} (not null), first one Binding request to the first STUN server, and
     * when it answers, the local endpoints and that reflexive one (and the port mapping) go to {@code preliminary}
     * with an empty NAT report before the NAT tests run: where this node is is known after one round trip, what its
     * NAT does only after the tests' silences.
     */
    EndpointDiscovery.Discovered run(Consumer<EndpointDiscovery.Discovered> preliminary) {
        synchronized (stun) {
            return probe(preliminary);
        }
    }

    /**
     * Which public endpoint a new flow from the WireGuard socket gets now (a STUN Binding request on a 5-tuple the
     * socket has not used lately, {@link FreshBinding}); empty when the last netcheck named no RFC 5780 server or
     * none answered. Blocking: waits for a discovery in progress, then for one STUN round trip.
     */
    Optional<InetSocketAddress> newFlowEndpoint() {
        synchronized (stun) {
            if (!freshBinding.canAsk()) {
                return Optional.empty();
            }
            try {
                return freshBinding.ask(device.transport(), scheduler).get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            } catch (Exception e) {
                log.debug("no answer to learn the port of new flows: {}", e.toString());
                return Optional.empty();
            }
        }
    }

    /** Whether {@link #newFlowEndpoint()} has a server to ask (a netcheck found an RFC 5780 one). */
    boolean canLearnNewFlowEndpoint() {
        return freshBinding.canAsk();
    }

    private EndpointDiscovery.Discovered probe(Consumer<EndpointDiscovery.Discovered> preliminary) {
        int port = device.listenPort();
        List<String> localAddresses = localAddresses(device);
        List<InetSocketAddress> servers = new ArrayList<>();
        List<InetSocketAddress> ipv6Servers = new ArrayList<>();
        for (String server : stunServers.get()) {
            try {
                InetSocketAddress resolved = HostPort.parse(server, HostPort.DEFAULT_STUN_PORT).resolve();
                (resolved.getAddress() instanceof Inet6Address ? ipv6Servers : servers).add(resolved);
            } catch (InvalidAddressException e) {
                log.warn("ignoring STUN server {} from control: {}", server, e.getMessage());
            }
        }
        if (servers.isEmpty()) {
            return EndpointReports.withPortMapping(EndpointReports.withIpv6Reflexive(
                    EndpointReports.withoutStun(localAddresses, port), ipv6Reflexive(ipv6Servers, localAddresses)),
                    portMapping.get());
        }
        if (preliminary != null) {
            firstMapping(servers.get(0)).ifPresent(mapped -> preliminary.accept(EndpointReports.withPortMapping(
                    EndpointReports.preliminary(localAddresses, port, mapped), portMapping.get())));
        }
        EndpointDiscovery.Discovered discovered;
        try (NatProber prober = new NatProber(device.transport(), scheduler)) {
            NetcheckResult result = prober.probe(servers, Duration.ofSeconds(4)).get(10, TimeUnit.SECONDS);
            freshBinding.netcheckDone(result);
            discovered = EndpointReports.fromNetcheck(localAddresses, port, result);
        } catch (Exception e) {
            throw new CompletionException(e);
        }
        discovered = EndpointReports.withPortMapping(EndpointReports.withIpv6Reflexive(discovered,
                ipv6Reflexive(ipv6Servers, localAddresses)), portMapping.get());
        publicIps = discovered.publicIps();
        natReport.accept(discovered.nat());
        return discovered;
    }

    /**
     * STUN over IPv6 (docs/architecture.md, "IPv6 paths"): the WireGuard socket's IPv6 reflexive endpoint as the
     * first IPv6 STUN server that answers sees it; empty when there is none, the host has no global IPv6 address
     * (nothing to send from) or no server answered. Kept apart from the NAT probe, whose classification compares
     * the mappings of one address family.
     */
    private Optional<InetSocketAddress> ipv6Reflexive(List<InetSocketAddress> ipv6Servers,
            List<String> localAddresses) {
        if (ipv6Servers.isEmpty() || localAddresses.stream().noneMatch(address -> address.contains(":"))) {
            return Optional.empty();
        }
        for (InetSocketAddress server : ipv6Servers.subList(0, Math.min(2, ipv6Servers.size()))) {
            Optional<InetSocketAddress> mapped = mappedBy(server, Duration.ofSeconds(2), Duration.ofSeconds(5));
            if (mapped.isPresent()) {
                return mapped;
            }
            log.debug("no STUN answer over IPv6 from {}", server);
        }
        return Optional.empty();
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
        return !(device.transport() instanceof NettyUdpTransport udp) || udp.dualStack();
    }

    /** The reflexive address of the WireGuard socket as {@code server} sees it, if it answers in time. */
    private Optional<InetSocketAddress> firstMapping(InetSocketAddress server) {
        return mappedBy(server, PRELIMINARY_WAIT, PRELIMINARY_WAIT.plusMillis(500));
    }

    /**
     * One Binding request from the WireGuard socket: the reflexive address {@code server}'s success response names,
     * retransmitted within {@code budget} and waited for at most {@code wait}; empty without one.
     */
    private Optional<InetSocketAddress> mappedBy(InetSocketAddress server, Duration budget, Duration wait) {
        try (StunClient client = new StunClient(device.transport(), scheduler)) {
            return client.request(server, List.of(), RetransmissionSchedule.RFC_8489_DEFAULT.withBudget(budget))
                    .get(wait.toMillis(), TimeUnit.MILLISECONDS)
                    .filter(response -> response.message().messageClass() == StunClass.SUCCESS_RESPONSE)
                    .flatMap(response -> response.message().mappedAddress());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (Exception e) {
            log.debug("no STUN answer from {}: {}", server, e.toString());
            return Optional.empty();
        }
    }

    /** This node's public IPs as the last probe that reached STUN saw them; empty before one did. */
    Set<String> publicIps() {
        return publicIps;
    }
}
