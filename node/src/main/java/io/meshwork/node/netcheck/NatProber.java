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
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Finds out what NAT sits in front of a {@link PacketTransport}'s socket by sending STUN Binding
 * requests from that very socket, then classifies with {@link NatClassifier}.
 *
 * <p>A run is a chain of tests, each started only once the answers it depends on are in:
 * <ol>
 *   <li>test I (RFC 5780 §4.3) against the first server;</li>
 *   <li>only if it has no alternate address: test I against every other server;</li>
 *   <li>the filtering tests (RFC 5780 §4.4) against a server with an alternate address whose alternate
 *       IP we have not yet sent to, since an earlier packet to that IP would open an address-dependent
 *       filter and fake endpoint-independent filtering;</li>
 *   <li>mapping test II towards that server's alternate IP, test I against the remaining servers, and the
 *       hairpin test to our own public endpoint;</li>
 *   <li>only when a mapping differed from test I's: a second round of test I and of every test that
 *       differed, of which only the second round is reported (a difference that does not reproduce is not
 *       reported as endpoint-dependent mapping);</li>
 *   <li>only when test II was answered and still differs in that second round: mapping test III.</li>
 * </ol>
 *
 * <p>Time: the whole run ends by its deadline, when every transaction still open counts as unanswered.
 * Tests whose answer decides the mapping (test I, test II, the second round, test III) retransmit per
 * RFC 8489 §6.2.1 until answered or the deadline, so a lost or late answer on a busy machine is retried
 * rather than read as a fact. Tests for which silence is a normal outcome (the filtering tests, the hairpin
 * test, other servers) wait a quarter of the budget.
 *
 * <p>The prober owns the transport's STUN handler while it exists; {@link #close()} releases it.
 */
public final class NatProber implements AutoCloseable {

    /** How long a whole probe may take unless the caller says otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final PacketTransport transport;
    private final ScheduledExecutorService scheduler;
    private final StunClient client;

    public NatProber(PacketTransport transport, ScheduledExecutorService scheduler) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
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
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the timeout must be positive");
        }
        return new Run(List.copyOf(servers), timeout).start();
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
        private final Duration timeout;
        private final long startNanos = System.nanoTime();
        /** Completes when the budget is spent; every transaction still open then ends unanswered. */
        private final CompletableFuture<Void> deadline = new CompletableFuture<>();
        private final List<BindingObservation> bindings = Collections.synchronizedList(new ArrayList<>());
        private final Map<InetSocketAddress, ServerProbe> serverProbes = new ConcurrentHashMap<>();
        private volatile Optional<Boolean> changeIpAndPortAnswered = Optional.empty();
        private volatile Optional<Boolean> changePortAnswered = Optional.empty();
        private volatile Optional<Boolean> hairpin = Optional.empty();

        Run(List<InetSocketAddress> servers, Duration timeout) {
            this.servers = servers;
            this.timeout = timeout;
        }

        CompletableFuture<NetcheckResult> start() {
            ScheduledFuture<?> timer = scheduler.schedule(() -> {
                deadline.complete(null);
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
            InetSocketAddress first = servers.get(0);
            List<InetSocketAddress> rest = servers.subList(1, servers.size());
            // With other servers to fall back on, the first may not take more than half the budget.
            Duration firstWait = rest.isEmpty() ? timeout : timeout.dividedBy(2);
            return bindConfigured(List.of(first), firstWait).thenCompose(ignored -> {
                Optional<InetSocketAddress> other = alternateOf(first);
                if (other.isPresent()) {
                    return filteringTests(first, other.get())
                            .thenCompose(done -> finalPhase(rest, Optional.of(first)));
                }
                return bindConfigured(rest, timeout.dividedBy(4)).thenCompose(done -> {
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
            }).thenApply(done -> {
                timer.cancel(false);
                return result();
            });
        }

        /** The server's RFC 5780 alternate address, if it reported one differing in both IP and port. */
        private Optional<InetSocketAddress> alternateOf(InetSocketAddress server) {
            return Optional.ofNullable(serverProbes.get(server))
                    .flatMap(ServerProbe::otherAddress)
                    .filter(other -> !other.getAddress().equals(server.getAddress()) && other.getPort() != server.getPort());
        }

        /**
         * How long a test whose answer may rightly never come waits for it: a quarter of the budget. Only
         * timers decide it, never a measured round trip, so the prober runs the same on virtual time.
         */
        private Duration silenceWait() {
            return timeout.dividedBy(4);
        }

        /**
         * One STUN transaction: RFC 8489 §6.2.1 retransmissions of the same request (so an answer to any of
         * them counts) until answered, {@code wait} has passed, or the deadline.
         */
        private CompletableFuture<Optional<StunResponse>> transaction(InetSocketAddress to,
                List<StunAttribute> attributes, Duration wait) {
            if (deadline.isDone()) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            CompletableFuture<Optional<StunResponse>> answer = client.request(to, attributes,
                    RetransmissionSchedule.RFC_8489_DEFAULT.withBudget(wait));
            deadline.thenRun(() -> answer.complete(Optional.empty()));
            return answer;
        }

        private CompletableFuture<Void> bindConfigured(List<InetSocketAddress> targets, Duration wait) {
            return CompletableFuture.allOf(targets.stream()
                    .map(server -> bind(server, wait).thenAccept(observed ->
                            serverProbes.put(server, ServerProbe.of(server, observed.response()))))
                    .toArray(CompletableFuture[]::new));
        }

        /** A Binding transaction whose mapped address joins the observations. */
        private CompletableFuture<Observed> bind(InetSocketAddress server, Duration wait) {
            return transaction(server, List.of(), wait).thenApply(response -> {
                Optional<InetSocketAddress> mapped = response
                        .filter(r -> r.message().messageClass() == StunClass.SUCCESS_RESPONSE)
                        .flatMap(r -> r.message().mappedAddress());
                BindingObservation observation = new BindingObservation(server, mapped);
                bindings.add(observation);
                return new Observed(observation, response);
            });
        }

        /**
         * RFC 5780 §4.4 tests II and III, run together to save time: the classifier reads test III
         * only when test II went unanswered, exactly as the sequential procedure would.
         */
        private CompletableFuture<Void> filteringTests(InetSocketAddress server, InetSocketAddress other) {
            Duration wait = silenceWait();
            CompletableFuture<Void> both = transaction(server,
                    List.of(new StunAttribute.ChangeRequest(true, true)), wait).thenAccept(response ->
                    changeIpAndPortAnswered = answeredFrom(response,
                            from -> !from.getAddress().equals(server.getAddress()) && from.getPort() != server.getPort()));
            CompletableFuture<Void> port = transaction(server,
                    List.of(new StunAttribute.ChangeRequest(false, true)), wait).thenAccept(response ->
                    changePortAnswered = answeredFrom(response,
                            from -> from.getAddress().equals(server.getAddress()) && from.getPort() != server.getPort()));
            return CompletableFuture.allOf(both, port);
        }

        /**
         * True when a success response came from where the change asked for; false when nothing came;
         * empty when the server answered from the wrong address or with an error, so it does not
         * really honour CHANGE-REQUEST and the test says nothing about our NAT.
         */
        private Optional<Boolean> answeredFrom(Optional<StunResponse> response, Predicate<InetSocketAddress> expectedSource) {
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
            Duration silence = silenceWait();
            List<CompletableFuture<?>> evidence = new ArrayList<>();
            // RFC 5780 §4.3 test II: alternate IP, primary port, retried until answered (or the deadline): only
            // its answer may decide whether test III runs. A configured server at that very address is asked once.
            Optional<InetSocketAddress> testTwo = rfc5780Server.map(server ->
                    new InetSocketAddress(alternateOf(server).orElseThrow().getAddress(), server.getPort()));
            testTwo.ifPresent(address -> evidence.add(bind(address, timeout).thenAccept(observed -> {
                if (remaining.contains(address)) {
                    serverProbes.put(address, ServerProbe.of(address, observed.response()));
                }
            })));
            evidence.add(bindConfigured(remaining.stream().filter(server -> !testTwo.equals(Optional.of(server)))
                    .toList(), silence));
            CompletableFuture<Void> mapping = CompletableFuture.allOf(evidence.toArray(CompletableFuture[]::new))
                    .thenCompose(done -> recheckDifferences(rfc5780Server))
                    .thenCompose(done -> rfc5780Server.map(server -> testThree(server, testTwo.orElseThrow()))
                            .orElseGet(() -> CompletableFuture.completedFuture(null)));
            CompletableFuture<Void> hairpinTest = firstPublicEndpoint().map(endpoint -> {
                CompletableFuture<Boolean> looped = deadline.isDone() ? CompletableFuture.completedFuture(false)
                        : client.hairpin(endpoint, RetransmissionSchedule.RFC_8489_DEFAULT.withBudget(silence));
                deadline.thenRun(() -> looped.complete(false));
                return looped.thenAccept(result -> hairpin = Optional.of(result));
            }).orElseGet(() -> CompletableFuture.completedFuture(null));
            return CompletableFuture.allOf(mapping, hairpinTest);
        }

        /**
         * A mapping that differed from test I's (against the RFC 5780 server, else the first server that
         * answered) is only reported if it reproduces: test I and every test whose
         * mapping differed are sent again as new transactions, and the second round replaces the first. One
         * stray observation (a late answer, a mapping replaced while we probed) then cannot make an
         * endpoint-independent NAT look endpoint-dependent (RFC 4787 §4.1), while a NAT that really maps per
         * destination keeps its per-destination mappings and shows the same difference again.
         */
        private CompletableFuture<Void> recheckDifferences(Optional<InetSocketAddress> rfc5780Server) {
            Optional<InetSocketAddress> answered = rfc5780Server.isPresent() ? rfc5780Server
                    : servers.stream().filter(server -> latestAnswered(server).isPresent()).findFirst();
            if (answered.isEmpty() || latestAnswered(answered.get()).isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            InetSocketAddress reference = answered.get();
            Optional<BindingObservation> testOne = latestAnswered(reference);
            List<BindingObservation> differing;
            synchronized (bindings) {
                differing = bindings.stream()
                        .filter(binding -> binding.mapped().isPresent() && !binding.server().equals(reference)
                                && !binding.mapped().equals(testOne.get().mapped()))
                        .toList();
            }
            if (differing.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            List<CompletableFuture<Observed>> secondRound = new ArrayList<>();
            secondRound.add(bind(reference, timeout));
            differing.stream().map(BindingObservation::server).distinct()
                    .forEach(server -> secondRound.add(bind(server, timeout)));
            return CompletableFuture.allOf(secondRound.toArray(CompletableFuture[]::new)).thenRun(() -> {
                synchronized (bindings) {
                    differing.forEach(bindings::remove);
                    if (secondRound.get(0).join().observation().mapped().isPresent()) {
                        bindings.remove(testOne.get());
                    }
                }
            });
        }

        /**
         * RFC 5780 §4.3 test III (alternate IP and port) only when test II was answered and its mapping still
         * differs from test I's, as the RFC orders it. Sending it otherwise (say, because test II's answer was
         * late) is wrong on Linux NATs whose gateway accepts unsolicited packets to itself: the reply to the
         * filtering test's CHANGE-REQUEST came from that very address, was not let through, but left a
         * conntrack entry at the gateway, so our mapping towards that address collides with it and the NAT
         * picks another port, which fakes an endpoint-dependent mapping.
         */
        private CompletableFuture<Void> testThree(InetSocketAddress server, InetSocketAddress testTwo) {
            Optional<BindingObservation> one = latestAnswered(server);
            Optional<BindingObservation> two = latestAnswered(testTwo);
            if (one.isEmpty() || two.isEmpty() || one.get().mapped().equals(two.get().mapped())) {
                return CompletableFuture.completedFuture(null);
            }
            return bind(alternateOf(server).orElseThrow(), timeout).thenApply(observed -> null);
        }

        private Optional<BindingObservation> latestAnswered(InetSocketAddress server) {
            synchronized (bindings) {
                for (int i = bindings.size() - 1; i >= 0; i--) {
                    BindingObservation binding = bindings.get(i);
                    if (binding.server().equals(server) && binding.mapped().isPresent()) {
                        return Optional.of(binding);
                    }
                }
                return Optional.empty();
            }
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

    /** One Binding transaction: what joined the observations, and the answer itself. */
    private record Observed(BindingObservation observation, Optional<StunResponse> response) {
    }
}
