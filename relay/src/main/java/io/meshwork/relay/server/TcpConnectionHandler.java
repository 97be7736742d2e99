package io.meshwork.relay.server;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP client connection: the handshake, then its frames to the {@link RelayHub}. A refused client gets the
 * reason and the connection is closed; a client that does not finish the handshake in time is disconnected.
 */
final class TcpConnectionHandler extends SimpleChannelInboundHandler<StreamFrameDecoder.Inbound> {

    private static final Logger log = LoggerFactory.getLogger(TcpConnectionHandler.class);

    private final RelayHub hub;
    private final Duration handshakeTimeout;
    private TcpSession session;

    TcpConnectionHandler(RelayHub hub, Duration handshakeTimeout) {
        this.hub = hub;
        this.handshakeTimeout = handshakeTimeout;
    }

    @Override
    public void channelActive(ChannelHandlerContext context) {
        context.executor().schedule(() -> {
            if (session == null && context.channel().isActive()) {
                log.debug("no handshake from {} within {}", context.channel().remoteAddress(), handshakeTimeout);
                context.close();
            }
        }, handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        context.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext context, StreamFrameDecoder.Inbound inbound) {
        RelayFrame frame = inbound.frame();
        InetSocketAddress remote = (InetSocketAddress) context.channel().remoteAddress();
        String source = "tcp/" + remote;
        if (frame instanceof ClientHello hello) {
            write(context, hub.onHello(hello, source));
        } else if (frame instanceof ClientAuth && session != null) {
            hub.dropped(DropReason.UNEXPECTED_FRAME, "second authentication on one connection", remote);
        } else if (frame instanceof ClientAuth auth) {
            Optional<TcpSession> opened = hub.onAuth(auth, source,
                    (device, bucket, now) -> new TcpSession(device, remote, bucket, now, context.channel()),
                    reply -> write(context, reply));
            if (opened.isPresent()) {
                session = opened.get();
            } else {
                context.channel().eventLoop().execute(() ->
                        context.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE));
            }
        } else if (session == null) {
            hub.dropped(DropReason.UNAUTHENTICATED, frame.type().name(), remote);
            write(context, new AuthResult(AuthStatus.UNAUTHENTICATED, ""));
        } else {
            hub.onSessionFrame(session, frame, inbound.wireBytes());
        }
    }

    private static void write(ChannelHandlerContext context, RelayFrame frame) {
        context.writeAndFlush(Unpooled.wrappedBuffer(RelayFrameCodec.encodeStream(frame)), context.voidPromise());
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        if (session != null) {
            hub.onDisconnected(session);
        }
        context.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        log.debug("TCP connection {} failed: {}", context.channel().remoteAddress(), cause.toString());
        context.close();
    }
}
