package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.NatPmp;
import io.meshwork.protocol.portmap.Pcp;
import io.meshwork.protocol.portmap.PortMapProtocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which port-mapping protocols the default gateway answers, for {@code meshwork netcheck}, without making a
 * mapping: PCP ANNOUNCE (RFC 6887 §14.1), the NAT-PMP external address request (RFC 6886 §3.2), and SSDP plus the
 * device description (a WAN connection service counts). The three run at once.
 */
public final class PortMapProbe {

    private static final Logger log = LoggerFactory.getLogger(PortMapProbe.class);

    /**
     * What the gateway answered.
     *
     * @param answered        the protocols it answered, in the order a node asks them
     * @param externalAddress the external address NAT-PMP named, or null
     */
    public record Answers(InetAddress gateway, List<PortMapProtocol> answered, InetAddress externalAddress) {}

    private PortMapProbe() {}

    /** Probes the default gateway; empty when there is none. */
    public static Optional<Answers> probe(Duration timeout) {
        Optional<InetAddress> gateway = DefaultGateway.read();
        return gateway.map(router -> probe(router, timeout));
    }

    static Answers probe(InetAddress gateway, Duration timeout) {
        DropCounter drops = new DropCounter();
        ExecutorService threads = Executors.newFixedThreadPool(3, runnable -> {
            Thread thread = new Thread(runnable, "netcheck-portmap");
            thread.setDaemon(true);
            return thread;
        });
        try {
            CompletableFuture<Boolean> pcp = CompletableFuture.supplyAsync(quietly(() -> {
                InetAddress client = GatewayDatagrams.localAddressTowards(gateway, Pcp.SERVER_PORT);
                return GatewayDatagrams.exchange(new InetSocketAddress(gateway, Pcp.SERVER_PORT),
                        Pcp.announceRequest(client), timeout, Pcp::parseResponse, drops, "PCP reply").isPresent();
            }, false), threads);
            CompletableFuture<InetAddress> natPmp = CompletableFuture.supplyAsync(quietly(() ->
                    GatewayDatagrams.exchange(new InetSocketAddress(gateway, NatPmp.SERVER_PORT),
                            NatPmp.externalAddressRequest(), timeout,
                            (bytes, length) -> NatPmp.parseResponse(bytes, length, NatPmp.OPCODE_EXTERNAL_ADDRESS),
                            drops, "NAT-PMP reply")
                    .map(response -> response.externalAddress() == null ? gateway : response.externalAddress())
                    .orElse(null), null), threads);
            CompletableFuture<Boolean> upnp = CompletableFuture.supplyAsync(quietly(() ->
                    new UpnpClient(timeout, drops, Clock.systemUTC()).discover(gateway).isPresent(), false), threads);
            List<PortMapProtocol> answered = new ArrayList<>();
            if (pcp.join()) {
                answered.add(PortMapProtocol.PCP);
            }
            InetAddress natPmpAddress = natPmp.join();
            if (natPmpAddress != null) {
                answered.add(PortMapProtocol.NAT_PMP);
            }
            if (upnp.join()) {
                answered.add(PortMapProtocol.UPNP);
            }
            InetAddress external = natPmpAddress == null || natPmpAddress.equals(gateway) ? null : natPmpAddress;
            return new Answers(gateway, List.copyOf(answered), external);
        } finally {
            threads.shutdownNow();
            try {
                threads.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A probe step whose failure (no route, socket errors) counts as "no answer". */
    private static <T> Supplier<T> quietly(ThrowingSupplier<T> step, T otherwise) {
        return () -> {
            try {
                return step.get();
            } catch (Exception e) {
                log.debug("port-mapping probe failed: {}", e.toString());
                return otherwise;
            }
        };
    }

    @FunctionalInterface
    private interface ThrowingSupplier<T> {
        T get() throws Exception;
    }
}
