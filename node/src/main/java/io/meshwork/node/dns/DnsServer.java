package io.meshwork.node.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resolver's sockets: UDP and TCP on port 53 of each service address (RFC 1035 §4.2, RFC 7766). With epoll,
 * one UDP socket per event-loop thread on the same address ({@code SO_REUSEPORT}), so the kernel spreads queries
 * over the threads. TCP connections are bounded ({@value #MAX_TCP_CONNECTIONS}) and closed after
 * {@value #TCP_IDLE_SECONDS} s without a query (RFC 7766 §6.2.3).
 */
final class DnsServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DnsServer.class);
    static final int MAX_TCP_CONNECTIONS = 256;
    static final int TCP_IDLE_SECONDS = 10;

    private final List<Channel> channels = new ArrayList<>();
    private final AtomicInteger tcpConnections = new AtomicInteger();

    private DnsServer() {}

    /** Binds every address (port included); throws when one cannot be bound, after closing what was. */
    static DnsServer bind(List<InetSocketAddress> addresses, EventLoopGroup group, int threads, MeshResolver resolver,
            DnsStats stats) throws InterruptedException {
        DnsServer server = new DnsServer();
        try {
            for (InetSocketAddress address : addresses) {
                server.bindUdp(address, group, Epoll.isAvailable() ? threads : 1, resolver, stats);
                server.bindTcp(address, group, resolver, stats);
            }
            return server;
        } catch (RuntimeException | InterruptedException e) {
            server.close();
            throw e;
        }
    }

    private void bindUdp(InetSocketAddress address, EventLoopGroup group, int sockets, MeshResolver resolver,
            DnsStats stats) throws InterruptedException {
        Bootstrap bootstrap = new Bootstrap().group(group)
                .channel(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, 1 << 20)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline().addLast(new UdpHandler(resolver, stats));
                    }
                });
        if (sockets > 1) {
            bootstrap.option(EpollChannelOption.SO_REUSEPORT, true);
        }
        for (int i = 0; i < sockets; i++) {
            channels.add(sync(bootstrap.bind(address), address, "UDP"));
        }
    }

    private void bindTcp(InetSocketAddress address, EventLoopGroup group, MeshResolver resolver, DnsStats stats)
            throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap().group(group)
                .channel(Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        if (tcpConnections.incrementAndGet() > MAX_TCP_CONNECTIONS) {
                            tcpConnections.decrementAndGet();
                            stats.dropped.increment();
                            channel.close();
                            return;
                        }
                        channel.closeFuture().addListener(closed -> tcpConnections.decrementAndGet());
                        channel.pipeline().addLast(
                                new ReadTimeoutHandler(TCP_IDLE_SECONDS, TimeUnit.SECONDS),
                                new LengthFieldBasedFrameDecoder(MeshResolver.TCP_LIMIT, 0, 2, 0, 2),
                                new LengthFieldPrepender(2),
                                new TcpHandler(resolver, stats));
                    }
                });
        channels.add(sync(bootstrap.bind(address), address, "TCP"));
    }

    private static Channel sync(ChannelFuture future, InetSocketAddress address, String transport)
            throws InterruptedException {
        future.await();
        if (!future.isSuccess()) {
            throw new IllegalStateException("cannot bind the DNS resolver to " + transport + " "
                    + address.getAddress().getHostAddress() + " port " + address.getPort() + ": "
                    + future.cause().getMessage(), future.cause());
        }
        return future.channel();
    }

    @Override
    public void close() {
        for (Channel channel : channels) {
            channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
    }

    /** One query per datagram; the answer goes back from the address it was sent to. */
    private static final class UdpHandler extends SimpleChannelInboundHandler<DatagramPacket> {
        private final MeshResolver resolver;
        private final DnsStats stats;
        private final DnsCodec codec = new DnsCodec();

        UdpHandler(MeshResolver resolver, DnsStats stats) {
            this.resolver = resolver;
            this.stats = stats;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext context, DatagramPacket packet) {
            InetSocketAddress client = packet.sender();
            Channel channel = context.channel();
            resolver.handle(packet.content(), client, packet.recipient(), false, codec, context.alloc(),
                    answer -> channel.writeAndFlush(new DatagramPacket(answer, client)));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            stats.dropped.increment();
            log.debug("DNS over UDP: {}", cause.toString());
        }
    }

    /** One query per length-prefixed frame (RFC 1035 §4.2.2); answers in order of completion. */
    private static final class TcpHandler extends SimpleChannelInboundHandler<ByteBuf> {
        private final MeshResolver resolver;
        private final DnsStats stats;
        private final DnsCodec codec = new DnsCodec();

        TcpHandler(MeshResolver resolver, DnsStats stats) {
            this.resolver = resolver;
            this.stats = stats;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext context, ByteBuf frame) {
            Channel channel = context.channel();
            resolver.handle(frame, (InetSocketAddress) channel.remoteAddress(),
                    (InetSocketAddress) channel.localAddress(), true, codec, context.alloc(), channel::writeAndFlush);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            // A frame that does not add up, or an idle client: the connection ends, the resolver goes on.
            if (!(cause instanceof io.netty.handler.timeout.ReadTimeoutException)) {
                stats.dropped.increment();
            }
            log.debug("DNS over TCP from {}: {}", context.channel().remoteAddress(), cause.toString());
            context.close();
        }
    }
}
