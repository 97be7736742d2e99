package io.meshwork.protocol.stun;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A STUN server on plain {@link DatagramChannel}s: one socket, or the four of RFC 5780 mode, served by
 * one thread with a selector. The decisions are {@link StunResponder}'s; this class only moves bytes.
 * Dropped datagrams are counted by reason and logged at debug level.
 */
public final class StunServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StunServer.class);
    private static final int RECEIVE_BUFFER_BYTES = StunDecoder.MAX_MESSAGE_BYTES + 1;
    private static final int FREE_PORT_ATTEMPTS = 50;

    private final StunResponder responder;
    private final Selector selector;
    private final Map<InetSocketAddress, DatagramChannel> channels;
    private final Thread thread;
    private final AtomicLong answered = new AtomicLong();
    private final Map<StunResponder.DropReason, AtomicLong> dropped = new EnumMap<>(StunResponder.DropReason.class);
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final Predicate<InetSocketAddress> mayAnswer;

    private StunServer(StunResponder responder, Selector selector, Map<InetSocketAddress, DatagramChannel> channels,
            Predicate<InetSocketAddress> mayAnswer) {
        this.responder = responder;
        this.selector = selector;
        this.channels = channels;
        this.mayAnswer = mayAnswer;
        for (StunResponder.DropReason reason : StunResponder.DropReason.values()) {
            dropped.put(reason, new AtomicLong());
        }
        this.thread = new Thread(this::serve, "stun-server-" + responder.addresses().primary());
        this.thread.setDaemon(true);
    }

    /**
     * Opens every socket of {@code addresses} and starts answering.
     *
     * @throws IOException when a socket cannot be bound; nothing stays open then
     */
    public static StunServer start(StunServerAddresses addresses, String software) throws IOException {
        return start(addresses, software, source -> true);
    }

    /**
     * Like {@link #start(StunServerAddresses, String)}, answering only sources {@code mayAnswer} admits (a rate
     * limit per source, say): a datagram from any other is dropped unread and counted ({@link #refused()}).
     * {@code mayAnswer} runs on the server's thread.
     */
    public static StunServer start(StunServerAddresses addresses, String software,
            Predicate<InetSocketAddress> mayAnswer) throws IOException {
        StunResponder responder = new StunResponder(addresses, software);
        Selector selector = Selector.open();
        Map<InetSocketAddress, DatagramChannel> channels = new HashMap<>();
        try {
            for (InetSocketAddress socket : addresses.sockets()) {
                DatagramChannel channel = DatagramChannel.open(socket.getAddress() instanceof Inet6Address
                        ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
                channels.put(socket, channel);
                channel.bind(socket);
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_READ, socket);
            }
        } catch (IOException | RuntimeException e) {
            closeAll(selector, channels.values());
            throw e;
        }
        StunServer server = new StunServer(responder, selector, channels, mayAnswer);
        server.thread.start();
        return server;
    }

    /**
     * Starts a server on a free port (a free pair P, P+1 on both IPs in RFC 5780 mode): for tests and
     * tools that need a server without choosing its port.
     */
    public static StunServer startOnFreePort(InetAddress primaryIp, Optional<InetAddress> alternateIp,
            String software) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < FREE_PORT_ATTEMPTS; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(20_000, 60_000);
            try {
                return start(new StunServerAddresses(primaryIp, alternateIp, port), software);
            } catch (BindException e) {
                last = e;
            }
        }
        throw new IOException("no free port pair found after " + FREE_PORT_ATTEMPTS + " attempts", last);
    }

    public StunServerAddresses addresses() {
        return responder.addresses();
    }

    /** Requests answered with a success or an error response, including any whose send then failed. */
    public long answered() {
        return answered.get();
    }

    /** Datagrams dropped for {@code reason}. */
    public long dropped(StunResponder.DropReason reason) {
        return dropped.get(reason).get();
    }

    /** Datagrams dropped unread because the admission predicate refused their source. */
    public long refused() {
        return refused.get();
    }

    /** Responses the socket refused to send (also counted in {@link #answered()}). */
    public long sendFailures() {
        return sendFailures.get();
    }

    private void serve() {
        ByteBuffer buffer = ByteBuffer.allocate(RECEIVE_BUFFER_BYTES);
        try {
            while (selector.isOpen()) {
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key.isValid() && key.isReadable()) {
                        drain((DatagramChannel) key.channel(), (InetSocketAddress) key.attachment(), buffer);
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | ClosedSelectorException e) {
            if (selector.isOpen()) {
                log.warn("STUN server on {} stopped: {}", responder.addresses().primary(), e.toString());
            }
        }
    }

    private void drain(DatagramChannel channel, InetSocketAddress local, ByteBuffer buffer) throws IOException {
        while (true) {
            buffer.clear();
            SocketAddress source;
            try {
                source = channel.receive(buffer);
            } catch (IOException e) {
                log.debug("receive on {} failed: {}", local, e.toString());
                return;
            }
            if (source == null) {
                return;
            }
            buffer.flip();
            handle(buffer, (InetSocketAddress) source, local);
        }
    }

    private void handle(ByteBuffer datagram, InetSocketAddress source, InetSocketAddress local) {
        if (!mayAnswer.test(source)) {
            refused.incrementAndGet();
            log.debug("refused datagram from {} on {}", source, local);
            return;
        }
        StunResponder.Outcome outcome = responder.respond(datagram, source, local);
        if (outcome instanceof StunResponder.Drop drop) {
            dropped.get(drop.reason()).incrementAndGet();
            log.debug("dropped datagram from {} on {}: {} {}", source, local, drop.reason(), drop.detail());
        } else if (outcome instanceof StunResponder.Reply reply) {
            // Counted before sending, so a client holding the answer always finds it counted.
            answered.incrementAndGet();
            try {
                channels.get(reply.from()).send(ByteBuffer.wrap(reply.datagram()), reply.to());
            } catch (IOException e) {
                sendFailures.incrementAndGet();
                log.debug("sending to {} from {} failed: {}", reply.to(), reply.from(), e.toString());
            }
        }
    }

    @Override
    public void close() {
        closeAll(selector, channels.values());
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeAll(Selector selector, Iterable<DatagramChannel> channels) {
        List<IOException> failures = new ArrayList<>();
        for (DatagramChannel channel : channels) {
            try {
                channel.close();
            } catch (IOException e) {
                failures.add(e);
            }
        }
        try {
            selector.close();
        } catch (IOException e) {
            failures.add(e);
        }
        failures.forEach(e -> log.debug("closing STUN server socket: {}", e.toString()));
    }
}
