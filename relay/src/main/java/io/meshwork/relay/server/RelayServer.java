package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.relay.metrics.RelayMetrics;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay (docs/architecture.md, "Relay"): forwards opaque frames between authenticated devices by WireGuard key,
 * over UDP and TCP (optionally TLS), on Netty's native epoll transport where available. Also answers STUN binding
 * requests on its UDP port.
 */
public final class RelayServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RelayServer.class);
    private static final int UDP_SOCKET_BUFFER_BYTES = 4 << 20;
    private static final int UDP_QUEUE_HIGH_BYTES = 4 << 20;

    private final EventLoopGroup group;
    private final RelayHub hub;
    private final Optional<Channel> udpChannel;
    private final Optional<Channel> tcpChannel;
    private final ScheduledFuture<?> sweeper;

    private RelayServer(EventLoopGroup group, RelayHub hub, Optional<Channel> udpChannel,
            Optional<Channel> tcpChannel, ScheduledFuture<?> sweeper) {
        this.group = group;
        this.hub = hub;
        this.udpChannel = udpChannel;
        this.tcpChannel = tcpChannel;
        this.sweeper = sweeper;
    }

    /**
     * Binds the configured listeners and starts relaying.
     *
     * @throws IOException when a listener cannot be bound; nothing stays open then
     */
    public static RelayServer start(RelayConfig config, RelayMetrics metrics) throws IOException {
        SecureRandom random = new SecureRandom();
        RelayHub hub = RelayEngine.newHub(config, metrics, RelayKeyPair.generate(random), random);
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(config.ioThreads,
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            Optional<Channel> udp = config.udpBind.isPresent()
                    ? Optional.of(bindUdp(config.udpBind.get(), group, hub, epoll)) : Optional.empty();
            Optional<Channel> tcp = config.tcpBind.isPresent()
                    ? Optional.of(bindTcp(config, group, hub, epoll)) : Optional.empty();
            long sweepMillis = Math.max(50, Math.min(1_000, config.idleTimeout.toMillis() / 4));
            ScheduledFuture<?> sweeper = group.next().scheduleAtFixedRate(
                    hub::sweep, sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
            RelayServer server = new RelayServer(group, hub, udp, tcp, sweeper);
            log.info("relay listening: udp {} tcp {}{} ({})", server.udpAddress().map(String::valueOf).orElse("off"),
                    server.tcpAddress().map(String::valueOf).orElse("off"), config.tls.isPresent() ? " (TLS)" : "",
                    epoll ? "epoll" : "nio");
            return server;
        } catch (Exception e) { // Netty rethrows bind failures (checked IOExceptions) unchecked.
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("cannot start relay: " + e.getMessage(), e);
        }
    }

    private static Channel bindUdp(InetSocketAddress bind, EventLoopGroup group, RelayHub hub, boolean epoll) {
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, UDP_SOCKET_BUFFER_BYTES)
                .option(ChannelOption.SO_SNDBUF, UDP_SOCKET_BUFFER_BYTES)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(UDP_QUEUE_HIGH_BYTES / 2, UDP_QUEUE_HIGH_BYTES))
                .handler(new UdpRelayHandler(hub));
        return bootstrap.bind(bind).syncUninterruptibly().channel();
    }

    private static Channel bindTcp(RelayConfig config, EventLoopGroup group, RelayHub hub, boolean epoll) {
        Class<? extends ServerChannel> channelClass =
                epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(config.tcpQueueLowBytes, config.tcpQueueHighBytes))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        config.tls.ifPresent(tls -> channel.pipeline().addLast(tls.newHandler(channel.alloc())));
                        channel.pipeline().addLast(
                                new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true),
                                new StreamFrameDecoder(hub::dropped),
                                new TcpConnectionHandler(hub, config.handshakeTimeout));
                    }
                });
        return bootstrap.bind(config.tcpBind.get()).syncUninterruptibly().channel();
    }

    /**
     * Whether a STUN request from {@code source} may be answered by another STUN server of this relay (the
     * {@code --stun} server): it takes from the same per-source answer budget as the relay port, and a refusal is
     * counted as {@link DropReason#STUN_RATE_LIMITED}. Thread-safe.
     */
    public boolean mayAnswerStun(InetSocketAddress source) {
        return hub.mayAnswer(source, DropReason.STUN_RATE_LIMITED, "stun");
    }

    /** The bound UDP address (with the real port when 0 was asked for). */
    public Optional<InetSocketAddress> udpAddress() {
        return udpChannel.map(channel -> (InetSocketAddress) channel.localAddress());
    }

    public Optional<InetSocketAddress> tcpAddress() {
        return tcpChannel.map(channel -> (InetSocketAddress) channel.localAddress());
    }

    public RelayMetrics metrics() {
        return hub.metrics();
    }

    public int clientCount() {
        return hub.clientCount();
    }

    /** TCP connections not authenticated yet (counted against the pending-connection caps). */
    public int pendingConnections() {
        return hub.pendingConnections();
    }

    public int clientCount(Transport transport) {
        return hub.clientCount(transport);
    }

    /** The transport the device with {@code key} is connected on, if it is. */
    public Optional<Transport> transportOf(RelayKey key) {
        return hub.transportOf(key);
    }

    /** Tells every client the relay is going away, then closes the listeners. */
    @Override
    public void close() {
        sweeper.cancel(false);
        hub.closeAll();
        udpChannel.ifPresent(channel -> channel.close().awaitUninterruptibly(Duration.ofSeconds(2).toMillis()));
        tcpChannel.ifPresent(channel -> channel.close().awaitUninterruptibly(Duration.ofSeconds(2).toMillis()));
        group.shutdownGracefully(100, 2_000, TimeUnit.MILLISECONDS).awaitUninterruptibly(5_000);
    }
}
