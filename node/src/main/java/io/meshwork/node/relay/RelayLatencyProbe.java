package io.meshwork.node.relay;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.stun.StunClass;
import io.meshwork.protocol.stun.StunDecoder;
import io.meshwork.protocol.stun.StunEncoder;
import io.meshwork.protocol.stun.StunMessage;
import io.meshwork.protocol.stun.StunParseException;
import io.meshwork.protocol.stun.TransactionId;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures a node's round trip to each listed relay (docs/architecture.md, "Relay selection and failover"): a STUN
 * Binding request to the relay's UDP port (every relay answers STUN there), sent {@link #SENDS} times
 * {@link #RESEND} apart, each with its own transaction, so that one lost request does not cost the measurement and
 * the first answer gives the round trip; a relay that does not answer over UDP within {@link #TIMEOUT} (a node
 * whose UDP is blocked) is measured by the time a TCP connection to it takes to open. A relay that answers neither
 * has no latency. From a socket of its own (not WireGuard's, whose STUN answers belong to endpoint discovery).
 *
 * <p>Answers are matched by transaction ID and sender; anything else is dropped and counted. At most
 * {@link #MAX_RELAYS} relays are measured per round, and at most one round runs at a time.
 */
public final class RelayLatencyProbe implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RelayLatencyProbe.class);
    /** How long a round waits for STUN answers, and for each TCP connection. */
    public static final Duration TIMEOUT = Duration.ofSeconds(1);
    static final int SENDS = 3;
    static final Duration RESEND = Duration.ofMillis(250);
    /** Relays measured per round at most (control's list is short; a longer one is cut). */
    public static final int MAX_RELAYS = 32;
    /** The port of a relay address that names none. */
    private static final int DEFAULT_PORT = 3340;

    private final PacketTransport udp;
    private final ScheduledExecutorService executor;
    private final LongSupplier nanoTime;
    private final Function<InetSocketAddress, CompletionStage<Boolean>> tcpConnect;
    /** Requests in flight: who they went to and when, by transaction. Bounded by MAX_RELAYS * SENDS. */
    private final Map<TransactionId, Sent> pending = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private volatile CompletableFuture<Map<String, Duration>> running;

    private record Sent(String relay, InetSocketAddress address, long atNanos, Round round) {}

    /** One round's answers so far. */
    private static final class Round {
        final Map<String, Duration> latencies = new ConcurrentHashMap<>();
    }

    /**
     * @param udp        a socket for the probe alone; the probe registers for STUN datagrams on it
     * @param tcpConnect opens (and closes again) a TCP connection to an address: completes true once it opened,
     *                   false when it could not; the probe times it
     */
    public RelayLatencyProbe(PacketTransport udp, ScheduledExecutorService executor, LongSupplier nanoTime,
            Function<InetSocketAddress, CompletionStage<Boolean>> tcpConnect) {
        this.udp = udp;
        this.executor = executor;
        this.nanoTime = nanoTime;
        this.tcpConnect = tcpConnect;
        udp.register(DatagramKind.STUN, this::onDatagram);
    }

    /**
     * Measures {@code relays}: completes with the round trip to each that answered, by name, after
     * {@link #TIMEOUT} (and the TCP attempts after it). A call while a round runs gets that round.
     */
    public synchronized CompletionStage<Map<String, Duration>> measure(List<RelayInfo> relays) {
        CompletableFuture<Map<String, Duration>> current = running;
        if (current != null && !current.isDone()) {
            return current;
        }
        CompletableFuture<Map<String, Duration>> result = new CompletableFuture<>();
        running = result;
        Round round = new Round();
        Map<String, InetSocketAddress> tcp = new LinkedHashMap<>();
        List<Runnable> sends = new ArrayList<>();
        for (RelayInfo relay : relays.stream().limit(MAX_RELAYS).toList()) {
            InetSocketAddress udpAddress = resolve(relay.name(), relay.udp());
            InetSocketAddress tcpAddress = resolve(relay.name(), relay.tcp());
            if (tcpAddress != null) {
                tcp.put(relay.name(), tcpAddress);
            }
            if (udpAddress != null) {
                sends.add(() -> send(relay.name(), udpAddress, round));
            }
        }
        for (int i = 0; i < SENDS; i++) {
            executor.schedule(() -> sends.forEach(Runnable::run), RESEND.toNanos() * i, TimeUnit.NANOSECONDS);
        }
        executor.schedule(() -> {
            pending.values().removeIf(sent -> sent.round() == round);
            List<CompletableFuture<Void>> connects = new ArrayList<>();
            tcp.forEach((name, address) -> {
                if (!round.latencies.containsKey(name)) {
                    connects.add(timeTcp(name, address, round));
                }
            });
            CompletableFuture.allOf(connects.toArray(CompletableFuture[]::new))
                    .whenComplete((done, failure) -> result.complete(Map.copyOf(round.latencies)));
        }, TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        return result;
    }

    /** STUN datagrams that matched no request of this probe, or did not parse. */
    public long droppedDatagrams() {
        return dropped.get();
    }

    private void send(String relay, InetSocketAddress address, Round round) {
        TransactionId id = TransactionId.random();
        pending.put(id, new Sent(relay, address, nanoTime.getAsLong(), round));
        try {
            udp.send(ByteBuffer.wrap(StunEncoder.encode(StunMessage.bindingRequest(id), null, true)), address);
        } catch (RuntimeException e) {
            log.debug("STUN request to relay {} at {} failed: {}", relay, address, e.toString());
        }
    }

    private CompletableFuture<Void> timeTcp(String relay, InetSocketAddress address, Round round) {
        long start = nanoTime.getAsLong();
        CompletableFuture<Void> done = new CompletableFuture<>();
        executor.schedule(() -> done.complete(null), TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        try {
            tcpConnect.apply(address).whenComplete((opened, failure) -> {
                if (Boolean.TRUE.equals(opened) && !done.isDone()) {
                    round.latencies.putIfAbsent(relay, Duration.ofNanos(nanoTime.getAsLong() - start));
                }
                done.complete(null);
            });
        } catch (RuntimeException e) {
            log.debug("TCP connection to relay {} at {} failed: {}", relay, address, e.toString());
            done.complete(null);
        }
        return done;
    }

    private void onDatagram(ByteBuffer datagram, InetSocketAddress sender) {
        StunMessage message;
        try {
            message = StunDecoder.decode(datagram);
        } catch (StunParseException e) {
            drop(sender, e.getMessage());
            return;
        }
        Sent sent = pending.get(message.transactionId());
        if (sent == null || !sent.address().equals(sender) || message.messageClass() == StunClass.REQUEST) {
            drop(sender, "not an answer to a request of this probe");
            return;
        }
        pending.remove(message.transactionId());
        sent.round().latencies.putIfAbsent(sent.relay(), Duration.ofNanos(nanoTime.getAsLong() - sent.atNanos()));
    }

    private void drop(InetSocketAddress sender, String why) {
        dropped.incrementAndGet();
        log.debug("dropped STUN datagram from {}: {}", sender, why);
    }

    private static InetSocketAddress resolve(String relay, String address) {
        if (address == null) {
            return null;
        }
        try {
            return HostPort.parse(address, DEFAULT_PORT).resolve();
        } catch (InvalidAddressException e) {
            log.debug("relay {}: cannot measure {}: {}", relay, address, e.getMessage());
            return null;
        }
    }

    @Override
    public void close() {
        udp.unregister(DatagramKind.STUN);
        pending.clear();
    }
}
