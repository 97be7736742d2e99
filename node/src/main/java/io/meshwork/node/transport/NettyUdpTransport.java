package io.meshwork.node.transport;

import io.meshwork.protocol.demux.DatagramKind;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.unix.SegmentedDatagramPacket;
import com.sun.jna.LastErrorException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PacketTransport} on a Netty datagram channel: native epoll on Linux, NIO elsewhere.
 *
 * <p>With epoll, offloads unless the system property {@code meshwork.udp.offload} is {@code false}: UDP GSO for
 * {@link #sendLaterSegments} (one {@code sendmsg} with {@code UDP_SEGMENT} for up to 64 datagrams of one size),
 * and, only with {@code -Dmeshwork.udp.gro=true}, UDP GRO on receive ({@code UDP_GRO}: the kernel hands over a
 * peer's GSO burst in one read, which Netty splits back into datagrams; the socket then reads with {@code recvmsg}
 * into a 64 KB buffer instead of {@code recvmmsg}). A kernel without them gets the plain socket, logged once.
 */
public final class NettyUdpTransport implements PacketTransport {

    private static final Logger log = LoggerFactory.getLogger(NettyUdpTransport.class);
    /** Largest datagram received whole: a full 1500-byte MTU frame's payload with room to spare. */
    private static final int MAX_DATAGRAM = 2048;
    /** Whether to use UDP GSO and GRO where the kernel has them; {@code -Dmeshwork.udp.offload=false}: never. */
    static final boolean OFFLOAD_WANTED = !"false".equalsIgnoreCase(System.getProperty("meshwork.udp.offload"));
    /**
     * UDP GRO is off unless {@code -Dmeshwork.udp.gro=true}: with it Netty reads one datagram or burst per
     * {@code recvmsg} into a 64 KB buffer instead of 32 datagrams per {@code recvmmsg}, and a peer that does not
     * send with GSO (wireguard-go before 2023, say) then cost several times the CPU per Gbit/s on this side
     * (docs/performance.md). Without it the kernel splits a peer's GSO bursts on arrival and recvmmsg reads them.
     */
    static final boolean GRO_WANTED = OFFLOAD_WANTED && "true".equalsIgnoreCase(System.getProperty("meshwork.udp.gro"));
    /** The kernel's limit on segments in one GSO send (UDP_MAX_SEGMENTS). */
    static final int MAX_SEGMENTS = 64;
    /** Largest GSO send: the datagrams must fit one IP packet's payload with the UDP header. */
    static final int MAX_SEGMENTED_BYTES = 65507 - 8;
    private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();
    private static final AtomicBoolean IPV4_FALLBACK_LOGGED = new AtomicBoolean();
    private static final java.net.InetAddress IPV6_ANY = io.meshwork.protocol.net.IpLiteral.parse("::");
    private static final java.net.InetAddress IPV4_ANY = io.meshwork.protocol.net.IpLiteral.parse("0.0.0.0");

    private final EventLoopGroup group;
    private final Channel channel;
    private final AtomicLong dropped = new AtomicLong();
    private volatile Map<DatagramKind, PacketHandler> handlers = new EnumMap<>(DatagramKind.class);
    /** Cleared when setsockopt(IP_TTL) fails once: TTL-limited sends are then declined. */
    private volatile boolean ttlSupported = true;
    private final ThreadLocal<List<DatagramPacket>> pending = ThreadLocal.withInitial(ArrayList::new);

    /** Cleared when the kernel refuses a GSO send after all (the path's MTU is smaller than a segment, say). */
    private volatile boolean gso;
    private final boolean gro;

    private NettyUdpTransport(EventLoopGroup group, Channel channel, boolean gso, boolean gro) {
        this.group = group;
        this.channel = channel;
        this.gso = gso;
        this.gro = gro;
    }

    /**
     * Binds a dual-stack UDP socket to {@code [::]:port} (port 0 picks a free port), which sends to and receives from
     * IPv4 and IPv6 endpoints alike; on a host without IPv6 (a kernel booted with {@code ipv6.disable=1}, no IPv6
     * module, or a refused {@code ::} bind) it falls back to {@code 0.0.0.0:port}, logged once at info.
     *
     * @throws TransportException when neither address can be bound
     */
    public static NettyUdpTransport bindAnyAddress(int port) {
        return bindAnyAddress(port, NettyUdpTransport::bind);
    }

    /** {@link #bindAnyAddress(int)} over {@code binder}, for tests of the fallback. */
    static <T> T bindAnyAddress(int port, java.util.function.Function<InetSocketAddress, T> binder) {
        InetSocketAddress dualStack = new InetSocketAddress(IPV6_ANY, port);
        try {
            return binder.apply(dualStack);
        } catch (TransportException e) {
            InetSocketAddress ipv4 = new InetSocketAddress(IPV4_ANY, port);
            T bound;
            try {
                bound = binder.apply(ipv4);
            } catch (TransportException alsoIpv4) {
                // Not a matter of IPv6 (the port is taken, say): the dual-stack bind's failure is the one to tell.
                e.addSuppressed(alsoIpv4);
                throw e;
            }
            if (IPV4_FALLBACK_LOGGED.compareAndSet(false, true)) {
                log.info("udp socket: IPv6 unavailable here ({}); bound {} for IPv4 only", e.getMessage(), ipv4);
            } else {
                log.debug("udp socket: IPv6 unavailable here ({}); bound {} for IPv4 only", e.getMessage(), ipv4);
            }
            return bound;
        }
    }

    /** Whether the socket is bound to an IPv6 address, so it can reach IPv6 endpoints. */
    public boolean dualStack() {
        return localAddress().getAddress() instanceof java.net.Inet6Address;
    }

    /**
     * Binds a UDP socket to {@code bindAddress} (port 0 picks a free port).
     *
     * @throws TransportException when the address cannot be bound
     */
    public static NettyUdpTransport bind(InetSocketAddress bindAddress) {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        NettyUdpTransport[] self = new NettyUdpTransport[1];
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, 4 << 20)
                .option(ChannelOption.SO_SNDBUF, 4 << 20);
        if (epoll) {
            // recvmmsg: up to 32 datagrams per system call.
            bootstrap.option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MAX_DATAGRAM)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_DATAGRAM * 32));
        }
        bootstrap
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext context, DatagramPacket packet) {
                        self[0].dispatch(packet);
                    }

                    @Override
                    public void channelReadComplete(ChannelHandlerContext context) {
                        self[0].batchEnd();
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
                        log.debug("udp socket error: {}", cause.toString());
                    }
                });
        try {
            Channel channel = bootstrap.bind(bindAddress).syncUninterruptibly().channel();
            boolean gso = epoll && OFFLOAD_WANTED && EpollDatagramChannel.isSegmentedDatagramPacketSupported();
            boolean gro = epoll && GRO_WANTED && enableGro(channel);
            if (epoll && OFFLOAD_WANTED && !(gso && (gro || !GRO_WANTED))) {
                logFallback("udp socket {}: the kernel lacks {}; sending and receiving one datagram at a time",
                        bindAddress, !gso && !gro ? "UDP GSO and GRO" : gso ? "UDP GRO" : "UDP GSO");
            }
            self[0] = new NettyUdpTransport(group, channel, gso, gro);
            return self[0];
        } catch (Exception e) { // Netty rethrows the bind failure's IOException unchecked.
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
            throw new TransportException("cannot bind UDP socket to " + bindAddress + ": " + e.getMessage(), e);
        }
    }

    /**
     * Turns on UDP GRO: Netty then reads with {@code recvmsg} into one buffer big enough for a coalesced burst
     * (a datagram payload size of 0 takes it off {@code recvmmsg}) and splits what came back into datagrams.
     */
    private static boolean enableGro(Channel channel) {
        try {
            if (!channel.config().setOption(EpollChannelOption.UDP_GRO, true)) {
                return false;
            }
        } catch (RuntimeException e) {
            log.debug("UDP_GRO refused: {}", e.toString());
            return false;
        }
        channel.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 0);
        channel.config().setOption(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65536));
        return true;
    }

    private static void logFallback(String message, Object address, String what) {
        if (FALLBACK_LOGGED.compareAndSet(false, true)) {
            log.info(message, address, what);
        } else {
            log.debug(message, address, what);
        }
    }

    /** True when {@link #sendLaterSegments} sends with UDP GSO. */
    public boolean segmentationOffload() {
        return gso;
    }

    /** True when the socket receives with UDP GRO. */
    public boolean receiveOffload() {
        return gro;
    }

    private void batchEnd() {
        for (PacketHandler handler : handlers.values()) {
            try {
                handler.onBatchEnd();
            } catch (RuntimeException e) {
                log.debug("handler failed at the end of a batch: {}", e.toString());
            }
        }
    }

    @Override
    public boolean reportsBatchEnds() {
        return true;
    }

    private void dispatch(DatagramPacket packet) {
        ByteBuffer datagram = packet.content().nioBuffer();
        DatagramKind kind = DatagramKind.classify(datagram);
        PacketHandler handler = handlers.get(kind);
        if (handler == null) {
            dropped.incrementAndGet();
            log.debug("dropped {} datagram of {} bytes from {}: no handler", kind, datagram.remaining(), packet.sender());
            return;
        }
        try {
            handler.onDatagram(datagram, packet.sender());
        } catch (RuntimeException e) {
            dropped.incrementAndGet();
            log.debug("handler for {} failed on a datagram from {}: {}", kind, packet.sender(), e.toString());
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void send(ByteBuffer datagram, InetSocketAddress destination) {
        ByteBuf copy = Unpooled.copiedBuffer(datagram);
        channel.writeAndFlush(new DatagramPacket(copy, destination), channel.voidPromise());
    }

    /**
     * Sends with a limited TTL on the epoll socket, IPv4 only: on the event loop, which is the only writer, what is
     * queued goes out first, then the socket's TTL is lowered for this one datagram and restored right after. A
     * socket whose send buffer is full (the datagram would wait and leave later at whatever TTL is set) drops it.
     */
    @Override
    public boolean sendWithTtl(ByteBuffer datagram, InetSocketAddress destination, int ttl) {
        if (!(channel instanceof EpollDatagramChannel epoll) || !(destination.getAddress() instanceof Inet4Address)
                || ttl < 1 || ttl > 255 || !ttlSupported) {
            return false;
        }
        DatagramPacket packet = new DatagramPacket(Unpooled.copiedBuffer(datagram), destination);
        channel.eventLoop().execute(() -> sendLimited(epoll, packet, ttl));
        return true;
    }

    private void sendLimited(EpollDatagramChannel epoll, DatagramPacket packet, int ttl) {
        channel.flush();
        io.netty.channel.ChannelOutboundBuffer queued = channel.unsafe().outboundBuffer();
        if (queued == null || !queued.isEmpty()) {
            packet.release();
            dropped.incrementAndGet();
            log.debug("dropped a TTL-limited datagram to {}: the socket's send buffer is full", packet.recipient());
            return;
        }
        int fd = epoll.fd().intValue();
        try {
            SocketTtl.set(fd, ttl);
        } catch (LastErrorException | UnsatisfiedLinkError e) {
            ttlSupported = false;
            packet.release();
            log.debug("cannot limit the socket's TTL: {}", e.toString());
            return;
        }
        try {
            channel.writeAndFlush(packet, channel.voidPromise());
        } finally {
            try {
                SocketTtl.set(fd, SocketTtl.DEFAULT);
            } catch (LastErrorException e) {
                log.warn("could not restore the UDP socket's TTL: {}", e.toString());
            }
        }
    }

    @Override
    public void sendLater(ByteBuffer datagram, InetSocketAddress destination) {
        ByteBuf copy = channel.alloc().directBuffer(datagram.remaining());
        copy.writeBytes(datagram.duplicate());
        queue(new DatagramPacket(copy, destination));
    }

    @Override
    public void sendLaterSegments(ByteBuffer datagrams, int segmentSize, InetSocketAddress destination) {
        int length = datagrams.remaining();
        if (!gso || length <= segmentSize || segmentSize <= 0 || length > MAX_SEGMENTED_BYTES
                || (length + segmentSize - 1) / segmentSize > MAX_SEGMENTS) {
            PacketTransport.super.sendLaterSegments(datagrams, segmentSize, destination);
            return;
        }
        ByteBuf copy = channel.alloc().directBuffer(length);
        copy.writeBytes(datagrams.duplicate());
        queue(new SegmentedDatagramPacket(copy, segmentSize, destination));
    }

    private void queue(DatagramPacket packet) {
        if (channel.eventLoop().inEventLoop()) {
            write(packet);
        } else {
            pending.get().add(packet);
        }
    }

    /** On the event loop. A refused GSO send turns GSO off for good: the next sends go one datagram at a time. */
    private void write(DatagramPacket packet) {
        if (!(packet instanceof SegmentedDatagramPacket)) {
            channel.write(packet, channel.voidPromise());
            return;
        }
        channel.write(packet).addListener(future -> {
            if (!future.isSuccess() && gso) {
                gso = false;
                log.info("udp socket {}: a GSO send failed ({}); sending one datagram at a time from now on",
                        localAddress(), String.valueOf(future.cause()));
            }
        });
    }

    @Override
    public void flush() {
        if (channel.eventLoop().inEventLoop()) {
            channel.flush();
            return;
        }
        List<DatagramPacket> batch = pending.get();
        if (batch.isEmpty()) {
            return;
        }
        pending.set(new ArrayList<>(batch.size()));
        channel.eventLoop().execute(() -> {
            for (DatagramPacket packet : batch) {
                write(packet);
            }
            channel.flush();
        });
    }

    @Override
    public synchronized void register(DatagramKind kind, PacketHandler handler) {
        Map<DatagramKind, PacketHandler> next = new EnumMap<>(handlers);
        next.put(kind, handler);
        handlers = next;
    }

    @Override
    public synchronized void unregister(DatagramKind kind) {
        Map<DatagramKind, PacketHandler> next = new EnumMap<>(handlers);
        next.remove(kind);
        handlers = next;
    }

    @Override
    public long droppedDatagrams() {
        return dropped.get();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
