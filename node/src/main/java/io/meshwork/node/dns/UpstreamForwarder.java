package io.meshwork.node.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the queries the mesh does not answer to the host's upstream resolvers (docs/architecture.md, "Names"): the
 * client's own bytes under a fresh random id (RFC 5452 §9.2), over UDP to each upstream in turn until one answers
 * within {@link #UPSTREAM_TIMEOUT}, again over TCP when the answer comes truncated (RFC 7766 §5), and keeps the
 * answers in a {@link ResponseCache}. EDNS0 options pass through as the client sent them. An answer counts only
 * from the upstream it was asked of, with the id and the question it was asked with.
 *
 * <p>Bounded: at most {@value #MAX_IN_FLIGHT} queries wait for upstreams (more are answered SERVFAIL at once), TCP
 * retries run on {@value #TCP_THREADS} threads with a queue of {@value #TCP_QUEUE}, the cache holds
 * {@value #CACHE_ENTRIES} answers.
 */
final class UpstreamForwarder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(UpstreamForwarder.class);
    static final Duration UPSTREAM_TIMEOUT = Duration.ofSeconds(2);
    static final int MAX_IN_FLIGHT = 2048;
    static final int CACHE_ENTRIES = 10_000;
    private static final int TCP_THREADS = 2;
    private static final int TCP_QUEUE = 64;
    private static final int MAX_MESSAGE = 65535;

    /** A query waiting for an upstream: whom it goes back to, and which upstream it was sent to. */
    private record Pending(byte[] query, int questionEnd, int clientId, String cacheKey, int clientLimit,
            Consumer<byte[]> reply, int upstreamIndex) {}

    private final List<InetSocketAddress> upstreams;
    private final DnsStats stats;
    private final ResponseCache cache = new ResponseCache(CACHE_ENTRIES);
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final ThreadPoolExecutor tcp = new ThreadPoolExecutor(TCP_THREADS, TCP_THREADS, 30, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(TCP_QUEUE), runnable -> {
                Thread thread = new Thread(runnable, "dns-upstream-tcp");
                thread.setDaemon(true);
                return thread;
            });
    private final Channel channel;

    UpstreamForwarder(List<InetSocketAddress> upstreams, EventLoopGroup group, DnsStats stats)
            throws InterruptedException {
        this.upstreams = List.copyOf(upstreams);
        this.stats = stats;
        tcp.allowCoreThreadTimeOut(true);
        this.channel = new Bootstrap().group(group)
                .channel(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext context, DatagramPacket packet) {
                        onUpstreamAnswer(packet);
                    }
                })
                .bind(0).sync().channel();
    }

    List<InetSocketAddress> upstreams() {
        return upstreams;
    }

    int cached() {
        return cache.size();
    }

    /**
     * Answers {@code query} (a client's raw query with one question ending at {@code questionEnd}) from the cache
     * or an upstream; {@code reply} gets the answer under the client's id, or SERVFAIL, exactly once, on some
     * thread. An answer larger than {@code clientLimit} goes out truncated.
     */
    void forward(byte[] query, int questionEnd, String cacheKey, int clientLimit, Consumer<byte[]> reply) {
        int clientId = WireFormat.id(query);
        long now = System.nanoTime();
        ResponseCache.Cached cached = cache.get(cacheKey, now);
        if (cached != null && cached.message().length <= clientLimit) {
            stats.cacheHits.increment();
            reply.accept(ResponseCache.serve(cached, query, questionEnd, clientId, now));
            return;
        }
        if (upstreams.isEmpty() || pending.size() >= MAX_IN_FLIGHT) {
            stats.upstreamFailures.increment();
            reply.accept(WireFormat.bare(query, questionEnd, WireFormat.RCODE_SERVFAIL, false));
            return;
        }
        stats.forwarded.increment();
        send(new Pending(query, questionEnd, clientId, cacheKey, clientLimit, reply, 0));
    }

    private void send(Pending query) {
        int id;
        do {
            id = random.nextInt(0x10000);
        } while (pending.putIfAbsent(id, query) != null);
        byte[] bytes = query.query().clone();
        WireFormat.setId(bytes, id);
        InetSocketAddress upstream = upstreams.get(query.upstreamIndex());
        channel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(bytes), upstream));
        int sentId = id;
        channel.eventLoop().schedule(() -> onTimeout(sentId, query), UPSTREAM_TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void onTimeout(int id, Pending query) {
        if (!pending.remove(id, query)) {
            return;
        }
        log.debug("upstream {} did not answer within {}", upstreams.get(query.upstreamIndex()), UPSTREAM_TIMEOUT);
        next(query);
    }

    /** The next upstream, or SERVFAIL when every one was tried. */
    private void next(Pending query) {
        if (query.upstreamIndex() + 1 < upstreams.size()) {
            send(new Pending(query.query(), query.questionEnd(), query.clientId(), query.cacheKey(),
                    query.clientLimit(), query.reply(), query.upstreamIndex() + 1));
        } else {
            stats.upstreamFailures.increment();
            query.reply().accept(WireFormat.bare(query.query(), query.questionEnd(), WireFormat.RCODE_SERVFAIL,
                    false));
        }
    }

    private void onUpstreamAnswer(DatagramPacket packet) {
        ByteBuf content = packet.content();
        if (content.readableBytes() < WireFormat.HEADER_LENGTH) {
            stats.dropped.increment();
            return;
        }
        byte[] answer = new byte[content.readableBytes()];
        content.getBytes(content.readerIndex(), answer);
        Pending query = pending.get(WireFormat.id(answer));
        if (query == null || !packet.sender().equals(upstreams.get(query.upstreamIndex()))
                || !WireFormat.sameQuestion(answer, query.query(), query.questionEnd())) {
            // Late, spoofed, or for another question: the query waits on for its own answer.
            stats.dropped.increment();
            log.debug("dropping an answer from {} that matches no query", packet.sender());
            return;
        }
        if (!pending.remove(WireFormat.id(answer), query)) {
            return;
        }
        if (WireFormat.truncated(answer)) {
            try {
                tcp.execute(() -> overTcp(query));
            } catch (RejectedExecutionException e) {
                next(query);
            }
            return;
        }
        deliver(query, answer);
    }

    /** RFC 7766 §5: the truncated question again, over TCP to the same upstream. */
    private void overTcp(Pending query) {
        InetSocketAddress upstream = upstreams.get(query.upstreamIndex());
        try (Socket socket = new Socket()) {
            socket.connect(upstream, (int) UPSTREAM_TIMEOUT.toMillis());
            socket.setSoTimeout((int) UPSTREAM_TIMEOUT.toMillis());
            byte[] bytes = query.query().clone();
            int id = random.nextInt(0x10000);
            WireFormat.setId(bytes, id);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeShort(bytes.length);
            out.write(bytes);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int length = in.readUnsignedShort();
            if (length < WireFormat.HEADER_LENGTH || length > MAX_MESSAGE) {
                throw new IOException("answer of " + length + " bytes");
            }
            byte[] answer = in.readNBytes(length);
            if (answer.length != length || WireFormat.id(answer) != id
                    || !WireFormat.sameQuestion(answer, query.query(), query.questionEnd())) {
                throw new IOException("the answer does not match the question");
            }
            stats.tcpRetries.increment();
            deliver(query, answer);
        } catch (IOException | IllegalArgumentException e) {
            log.debug("TCP to upstream {} failed: {}", upstream, e.toString());
            next(query);
        }
    }

    private void deliver(Pending query, byte[] answer) {
        cache.put(query.cacheKey(), answer.clone(), System.nanoTime());
        if (answer.length > query.clientLimit()) {
            query.reply().accept(WireFormat.bare(query.query(), query.questionEnd(), 0, true));
            return;
        }
        WireFormat.setId(answer, query.clientId());
        query.reply().accept(answer);
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        tcp.shutdownNow();
    }
}
