package io.meshwork.node.netcheck;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.nat.BindingObservation;
import io.meshwork.protocol.nat.NatClassifier;
import io.meshwork.protocol.nat.NatObservations;
import io.meshwork.protocol.stun.RetransmissionSchedule;
import io.meshwork.protocol.stun.StunAttribute;
import io.meshwork.protocol.stun.StunClass;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;

/**
 * Finds out what NAT sits in front of a {@link PacketTransport}'s socket by sending STUN Binding
 * requests from that very socket, then classifies with {@link NatClassifier}.
 *
 * <p>One run has at most four phases, each bounded by a quarter of the time budget (RFC 8489 §6.2.1
 * retransmissions, cut short), so the whole probe ends within the budget:
 * <ol>
 *   <li>test I (RFC 5780 §4.3) against the first server;</li>
 *   <li>only if it has no alternate address: test I against every other server;</li>
 *   <li>the filtering tests (RFC 5780 §4.4) against a server with an alternate address whose alternate
 *       IP we have not yet sent to, since an earlier packet to that IP would open an address-dependent
 *       filter and fake endpoint-independent filtering;</li>
 *   <li>the mapping tests towards that server's alternate IP (RFC 5780 §4.3 test II, then test III only
 *       when test II's mapping differs), test I against the remaining servers, and the hairpin test to our
 *       own public endpoint.</li>
 * </ol>
 *
 * <p>The prober owns the transport's STUN handler while it exists; {@link #close()} releases it.
 */
public final class NatProber implements AutoCloseable {

    /** How long a whole probe may take unless the caller says otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private static final int MAX_PHASES = 4;

    private final PacketTransport transport;
    private final StunClient client;

    public NatProber(PacketTransport transport, ScheduledExecutorService scheduler) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.client = new StunClient(transport, scheduler);
    }

    /**
     * Probes with {@code servers} (resolved addresses, at least one) within {@code timeout}.
     * The future never fails for network reasons: silence is an observation (UDP blocked).
     */
    public CompletableFuture<NetcheckResult> probe(List<InetSocketAddress> servers, Duration timeout) {
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("at least one STUN server is needed");
        }
        for (InetSocketAddress server : servers) {
            if (server.isUnresolved()) {
                throw new IllegalArgumentException("unresolved STUN server " + server);
            }
        }
        RetransmissionSchedule schedule = RetransmissionSchedule.RFC_8489_DEFAULT
                .withBudget(timeout.dividedBy(MAX_PHASES));
        return new Run(List.copyOf(servers), schedule).start();
    }

    /** STUN datagrams that arrived but matched none of our transactions. */
    public long droppedDatagrams() {
        return client.droppedDatagrams();
    }

    @Override
    public void close() {
        client.close();
    }

    /** The local addresses our packets leave from: the bound address, or per route for a wildcard bind. */
    private List<InetSocketAddress> localEndpoints(List<InetSocketAddress> servers) {
        InetSocketAddress bound = transport.localAddress();
        if (!bound.getAddress().isAnyLocalAddress()) {
            return List.of(bound);
        }
        Set<InetSocketAddress> endpoints = new LinkedHashSet<>();
        for (InetSocketAddress server : servers) {
            // Connecting a UDP socket sends nothing; it only asks the kernel which source IP it would use.
            try (DatagramSocket socket = new DatagramSocket()) {
                socket.connect(server);
                endpoints.add(new InetSocketAddress(socket.getLocalAddress(), bound.getPort()));
            } catch (IOException | RuntimeException e) {
                // No route to this server: it cannot have seen us from any local address either.
            }
        }
        return List.copyOf(endpoints);
    }

    private final class Run {
        private final List<InetSocketAddress> servers;
        private final RetransmissionSchedule schedule;
        private final long startNanos = System.nanoTime();
        private final List<BindingObservation> bindings = Collections.synchronizedList(new ArrayList<>());
        private final Map<InetSocketAddress, ServerProbe> serverProbes = new ConcurrentHashMap<>();
        private volatile Optional<Boolean> changeIpAndPortAnswered = Optional.empty();
        private volatile Optional<Boolean> changePortAnswered = Optional.empty();
        private volatile Optional<Boolean> hairpin = Optional.empty();

        Run(List<InetSocketAddress> servers, RetransmissionSchedule schedule) {
            this.servers = servers;
            this.schedule = schedule;
        }

        CompletableFuture<NetcheckResult> start() {
            InetSocketAddress first = servers.get(0);
            List<InetSocketAddress> rest = servers.subList(1, servers.size());
            return bindConfigured(List.of(first)).thenCompose(ignored -> {
                Optional<InetSocketAddress> other = alternateOf(first);
                if (other.isPresent()) {
                    return filteringTests(first, other.get())
                            .thenCompose(done -> finalPhase(rest, Optional.of(first)));
                }
                return bindConfigured(rest).thenCompose(done -> {
                    Set<InetAddress> contacted = servers.stream().map(InetSocketAddress::getAddress)
                            .collect(Collectors.toSet());
                    Optional<InetSocketAddress> tester = rest.stream()
                            .filter(server -> alternateOf(server)
                                    .filter(alternate -> !contacted.contains(alternate.getAddress())).isPresent())
                            .findFirst();
                    if (tester.isEmpty()) {
                        return finalPhase(List.of(), Optional.empty());
                    }
                    return filteringTests(tester.get(), alternateOf(tester.get()).orElseThrow())
                            .thenCompose(filtered -> finalPhase(List.of(), tester));
                });
            }).thenApply(done -> result());
        }

        /** The server's RFC 5780 alternate address, if it reported one differing in both IP and port. */
        private Optional<InetSocketAddress> alternateOf(InetSocketAddress server) {
            return Optional.ofNullable(serverProbes.get(server))
                    .flatMap(ServerProbe::otherAddress)
                    .filter(other -> !other.getAddress().equals(server.getAddress()) && other.getPort() != server.getPort());
        }

        private CompletableFuture<Void> bindConfigured(List<InetSocketAddress> targets) {
            return CompletableFuture.allOf(targets.stream()
                    .map(server -> bind(server).thenAccept(response ->
                            serverProbes.put(server, ServerProbe.of(server, response))))
                    .toArray(CompletableFuture[]::new));
        }

        private CompletableFuture<Optional<StunResponse>> bind(InetSocketAddress server) {
            return client.request(server, List.of(), schedule).thenApply(response -> {
                Optional<InetSocketAddress> mapped = response
                        .filter(r -> r.message().messageClass() == StunClass.SUCCESS_RESPONSE)
                        .flatMap(r -> r.message().mappedAddress());
                bindings.add(new BindingObservation(server, mapped));
                return response;
            });
        }

        /**
         * RFC 5780 §4.4 tests II and III, run together to save a phase: the classifier reads test III
         * only when test II went unanswered, exactly as the sequential procedure would.
         */
        private CompletableFuture<Void> filteringTests(InetSocketAddress server, InetSocketAddress other) {
            CompletableFuture<Void> both = client.request(server,
                    List.of(new StunAttribute.ChangeRequest(true, true)), schedule).thenAccept(response ->
                    changeIpAndPortAnswered = answeredFrom(response,
                            from -> !from.getAddress().equals(server.getAddress()) && from.getPort() != server.getPort()));
            CompletableFuture<Void> port = client.request(server,
                    List.of(new StunAttribute.ChangeRequest(false, true)), schedule).thenAccept(response ->
                    changePortAnswered = answeredFrom(response,
                            from -> from.getAddress().equals(server.getAddress()) && from.getPort() != server.getPort()));
            return CompletableFuture.allOf(both, port);
        }

        /**
         * True when a success response came from where the change asked for; false when nothing came;
         * empty when the server answered from the wrong address or with an error, so it does not
         * really honour CHANGE-REQUEST and the test says nothing about our NAT.
         */
        private Optional<Boolean> answeredFrom(Optional<StunResponse> response,
                java.util.function.Predicate<InetSocketAddress> expectedSource) {
            if (response.isEmpty()) {
                return Optional.of(false);
            }
            StunResponse answer = response.get();
            boolean honoured = answer.message().messageClass() == StunClass.SUCCESS_RESPONSE
                    && expectedSource.test(answer.from());
            return honoured ? Optional.of(true) : Optional.empty();
        }

        private CompletableFuture<Void> finalPhase(List<InetSocketAddress> remaining,
                Optional<InetSocketAddress> rfc5780Server) {
            List<CompletableFuture<?>> work = new ArrayList<>();
            work.add(bindConfigured(remaining));
            rfc5780Server.ifPresent(server -> {
                InetSocketAddress other = alternateOf(server).orElseThrow();
                // RFC 5780 §4.3 test II: alternate IP, primary port. Test III (alternate IP and port) only
                // when test II's mapping differs from test I's, as the RFC orders it. Sending test III
                // regardless is wrong on Linux NATs: the filtering tests' unsolicited answer from that very
                // address left a conntrack entry at the NAT, so our mapping towards it collides and the NAT
                // picks another port, which would fake an endpoint-dependent mapping.
                InetSocketAddress testTwo = new InetSocketAddress(other.getAddress(), server.getPort());
                work.add(bind(testTwo).thenCompose(answer -> {
                    Optional<InetSocketAddress> testOneMapping = serverProbes.get(server).mapped();
                    Optional<InetSocketAddress> testTwoMapping = answer.flatMap(r -> r.message().mappedAddress());
                    if (testTwoMapping.isPresent() && testTwoMapping.equals(testOneMapping)) {
                        return CompletableFuture.completedFuture(null);
                    }
                    return bind(other).thenApply(ignored -> null);
                }));
            });
            firstPublicEndpoint().ifPresent(endpoint -> work.add(
                    client.hairpin(endpoint, schedule).thenAccept(result -> hairpin = Optional.of(result))));
            return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new));
        }

        private Optional<InetSocketAddress> firstPublicEndpoint() {
            synchronized (bindings) {
                return bindings.stream().flatMap(binding -> binding.mapped().stream()).findFirst();
            }
        }

        private NetcheckResult result() {
            List<InetSocketAddress> local = localEndpoints(servers);
            List<BindingObservation> observed;
            synchronized (bindings) {
                observed = List.copyOf(bindings);
            }
            NatObservations observations = new NatObservations(local, observed,
                    changeIpAndPortAnswered, changePortAnswered, hairpin);
            List<ServerProbe> perServer = servers.stream()
                    .map(server -> serverProbes.getOrDefault(server, ServerProbe.of(server, Optional.empty())))
                    .toList();
            return new NetcheckResult(NatClassifier.classify(observations), local, perServer,
                    Duration.ofNanos(System.nanoTime() - startNanos));
        }
    }
}
