package io.meshwork.relay.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP client connection on Netty: its decoded frames go to a {@link StreamConnection}. A connection past the
 * caps on unauthenticated connections (per source address, in total) is closed at once, before any TLS handshake;
 * a client that does not finish the handshake in time is disconnected.
 */
final class TcpConnectionHandler extends SimpleChannelInboundHandler<StreamFrameDecoder.Inbound> {

    private static final Logger log = LoggerFactory.getLogger(TcpConnectionHandler.class);

    private final RelayHub hub;
    private final Duration handshakeTimeout;
    private StreamConnection connection;

    TcpConnectionHandler(RelayHub hub, Duration handshakeTimeout) {
        this.hub = hub;
        this.handshakeTimeout = handshakeTimeout;
    }

    @Override
    public void channelActive(ChannelHandlerContext context) {
        InetSocketAddress remote = (InetSocketAddress) context.channel().remoteAddress();
        if (!hub.tryOpenPending(remote)) {
            context.close();
            return;
        }
        connection = new StreamConnection(hub, remote, new ChannelFrameStream(context.channel()),
                () -> hub.pendingEnded(remote));
        context.executor().schedule(() -> {
            if (!connection.authenticated() && context.channel().isActive()) {
                log.debug("no handshake from {} within {}", context.channel().remoteAddress(), handshakeTimeout);
                context.close();
            }
        }, handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        context.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext context, StreamFrameDecoder.Inbound inbound) {
        if (connection != null) {
            connection.onFrame(inbound.frame(), inbound.wireBytes());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        if (connection != null) {
            connection.onClosed();
        }
        context.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        log.debug("TCP connection {} failed: {}", context.channel().remoteAddress(), cause.toString());
        context.close();
    }
}
