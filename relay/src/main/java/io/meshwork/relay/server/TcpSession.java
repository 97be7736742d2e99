package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.relay.auth.VerifiedDevice;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.net.InetSocketAddress;

/**
 * A client on its own TCP connection. Its send queue is the channel's outbound buffer: once that passes the
 * high watermark the channel turns unwritable and frames for this client are dropped until it drains below the
 * low watermark, so a client that stops reading costs the relay a bounded amount of memory and nobody else
 * waits for it.
 */
final class TcpSession extends ClientSession {

    private final Channel channel;

    TcpSession(VerifiedDevice device, InetSocketAddress address, TokenBucket bucket, long nowNanos, Channel channel) {
        super(device, address, bucket, nowNanos);
        this.channel = channel;
    }

    Channel channel() {
        return channel;
    }

    @Override
    Transport transport() {
        return Transport.TCP;
    }

    @Override
    DropReason congestion() {
        return channel.isWritable() ? null : DropReason.DESTINATION_QUEUE_FULL;
    }

    @Override
    void send(RelayFrame frame) {
        channel.writeAndFlush(Unpooled.wrappedBuffer(RelayFrameCodec.encodeStream(frame)), channel.voidPromise());
    }

    @Override
    void close(CloseReason reason, String detail) {
        if (!channel.isActive()) {
            return;
        }
        channel.writeAndFlush(Unpooled.wrappedBuffer(RelayFrameCodec.encodeStream(new Goodbye(reason, detail))))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
