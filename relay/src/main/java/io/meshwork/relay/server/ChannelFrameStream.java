package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;

/**
 * A client's TCP connection as a {@link FrameStream}. Its send queue is the channel's outbound buffer, bounded by
 * the channel's write-buffer watermarks.
 */
final class ChannelFrameStream implements FrameStream {

    private final Channel channel;

    ChannelFrameStream(Channel channel) {
        this.channel = channel;
    }

    @Override
    public boolean writable() {
        return channel.isWritable();
    }

    @Override
    public void write(RelayFrame frame) {
        channel.writeAndFlush(Unpooled.wrappedBuffer(RelayFrameCodec.encodeStream(frame)), channel.voidPromise());
    }

    @Override
    public boolean isOpen() {
        return channel.isActive();
    }

    @Override
    public void close() {
        if (channel.isActive()) {
            // Netty keeps the order of writes, so the close follows whatever was written before it.
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
