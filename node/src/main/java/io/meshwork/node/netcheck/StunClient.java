package io.meshwork.node.netcheck;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.stun.RetransmissionSchedule;
import io.meshwork.protocol.stun.StunAttribute;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * STUN client transactions over a {@link PacketTransport}: it registers as the transport's STUN
 * handler, sends Binding requests with RFC 8489 §6.2.1 retransmissions, and matches answers by
 * transaction ID. It also recognises our own requests coming back, which is how a hairpin test sees
 * its probe.
 */
public final class StunClient implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StunClient.class);

    private final PacketTransport transport;
    private final ScheduledExecutorService scheduler;
    private final Map<TransactionId, Pending> pending = new ConcurrentHashMap<>();
    private final Map<TransactionId, CompletableFuture<Boolean>> loopbacks = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();

    private record Pending(CompletableFuture<Optional<StunResponse>> result, long startNanos,
            List<ScheduledFuture<?>> timers) {
    }

    /** Registers for {@link DatagramKind#STUN} on {@code transport}, replacing any earlier STUN handler. */
    public StunClient(PacketTransport transport, ScheduledExecutorService scheduler) {
        this.transport = transport;
        this.scheduler = scheduler;
        transport.register(DatagramKind.STUN, this::onDatagram);
    }

    /**
     * Sends a Binding request with {@code attributes} to {@code server}, retransmitting per
     * {@code schedule}. Completes with the answer (success or error response), or empty when the
     * schedule runs out.
     */
    public CompletableFuture<Optional<StunResponse>> request(InetSocketAddress server,
            List<StunAttribute> attributes, RetransmissionSchedule schedule) {
        TransactionId id = TransactionId.random();
        StunMessage request = StunMessage.bindingRequest(id, attributes.toArray(StunAttribute[]::new));
        byte[] datagram = StunEncoder.encode(request, null, true);
        CompletableFuture<Optional<StunResponse>> result = new CompletableFuture<>();
        List<ScheduledFuture<?>> timers = new ArrayList<>();
        Pending entry = new Pending(result, System.nanoTime(), timers);
        pending.put(id, entry);
        synchronized (timers) {
            for (Duration offset : schedule.sendOffsets()) {
                timers.add(scheduler.schedule(() -> send(datagram, server), offset.toNanos(), TimeUnit.NANOSECONDS));
            }
            timers.add(scheduler.schedule(() -> result.complete(Optional.empty()),
                    schedule.timeout().toNanos(), TimeUnit.NANOSECONDS));
        }
        result.whenComplete((outcome, failure) -> {
            pending.remove(id);
            synchronized (timers) {
                timers.forEach(timer -> timer.cancel(false));
            }
        });
        return result;
    }

    /**
     * Sends Binding requests to {@code ownPublicEndpoint} per {@code schedule}; completes with true when
     * one of them arrives back at this socket (the NAT hairpins), false when none does in time.
     */
    public CompletableFuture<Boolean> hairpin(InetSocketAddress ownPublicEndpoint, RetransmissionSchedule schedule) {
        TransactionId id = TransactionId.random();
        byte[] datagram = StunEncoder.encode(StunMessage.bindingRequest(id), null, true);
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        loopbacks.put(id, result);
        List<ScheduledFuture<?>> timers = new ArrayList<>();
        synchronized (timers) {
            for (Duration offset : schedule.sendOffsets()) {
                timers.add(scheduler.schedule(() -> send(datagram, ownPublicEndpoint),
                        offset.toNanos(), TimeUnit.NANOSECONDS));
            }
            timers.add(scheduler.schedule(() -> result.complete(false),
                    schedule.timeout().toNanos(), TimeUnit.NANOSECONDS));
        }
        result.whenComplete((outcome, failure) -> {
            loopbacks.remove(id);
            synchronized (timers) {
                timers.forEach(timer -> timer.cancel(false));
            }
        });
        return result;
    }

    /** STUN datagrams that matched no transaction or did not parse. */
    public long droppedDatagrams() {
        return dropped.get();
    }

    private void send(byte[] datagram, InetSocketAddress destination) {
        try {
            transport.send(ByteBuffer.wrap(datagram), destination);
        } catch (RuntimeException e) {
            // A failed send is a lost packet: the retransmission schedule copes or the transaction times out.
            log.debug("sending STUN request to {} failed: {}", destination, e.toString());
        }
    }

    private void onDatagram(ByteBuffer datagram, InetSocketAddress sender) {
        StunMessage message;
        try {
            message = StunDecoder.decode(datagram);
        } catch (StunParseException e) {
            drop(sender, e.getMessage());
            return;
        }
        if (message.messageClass() == StunClass.REQUEST) {
            CompletableFuture<Boolean> loopback = loopbacks.get(message.transactionId());
            if (loopback != null) {
                loopback.complete(true);
            } else {
                drop(sender, "a request that is not our hairpin probe");
            }
            return;
        }
        Pending entry = pending.get(message.transactionId());
        if (entry == null) {
            drop(sender, "no transaction " + message.transactionId());
            return;
        }
        if (message.messageClass() == StunClass.SUCCESS_RESPONSE && !message.unknownComprehensionRequired().isEmpty()) {
            // RFC 8489 §6.3.3: a success response with unknown comprehension-required attributes is discarded.
            drop(sender, "unknown comprehension-required attributes " + message.unknownComprehensionRequired());
            return;
        }
        Duration roundTrip = Duration.ofNanos(System.nanoTime() - entry.startNanos());
        entry.result().complete(Optional.of(new StunResponse(message, sender, roundTrip)));
    }

    private void drop(InetSocketAddress sender, String why) {
        dropped.incrementAndGet();
        log.debug("dropped STUN datagram from {}: {}", sender, why);
    }

    /** Unregisters from the transport; transactions still running complete as unanswered. */
    @Override
    public void close() {
        transport.unregister(DatagramKind.STUN);
        pending.values().forEach(entry -> entry.result().complete(Optional.empty()));
        loopbacks.values().forEach(loopback -> loopback.complete(false));
    }
}
