package io.meshwork.node.agent;

import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.netcheck.NatProber;
import io.meshwork.node.netcheck.StunClient;
import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.node.portmap.PortMapping;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.stun.RetransmissionSchedule;
import io.meshwork.protocol.stun.StunClass;
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
        int port = device.listenPort();
        List<String> localAddresses = LocalAddresses.ipv4();
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
        if (preliminary != null) {
            firstMapping(servers.get(0)).ifPresent(mapped -> preliminary.accept(EndpointReports.withPortMapping(
                    EndpointReports.preliminary(localAddresses, port, mapped), portMapping.get())));
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

    /** The reflexive address of the WireGuard socket as {@code server} sees it, if it answers in time. */
    private Optional<InetSocketAddress> firstMapping(InetSocketAddress server) {
        try (StunClient client = new StunClient(device.transport(), scheduler)) {
            return client.request(server, List.of(),
                            RetransmissionSchedule.RFC_8489_DEFAULT.withBudget(PRELIMINARY_WAIT))
                    .get(PRELIMINARY_WAIT.toMillis() + 500, TimeUnit.MILLISECONDS)
                    .filter(response -> response.message().messageClass() == StunClass.SUCCESS_RESPONSE)
                    .flatMap(response -> response.message().mappedAddress());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (Exception e) {
            log.debug("no early STUN answer from {}: {}", server, e.toString());
            return Optional.empty();
        }
    }

    /** This node's public IPs as the last probe that reached STUN saw them; empty before one did. */
    Set<String> publicIps() {
        return publicIps;
    }
}
