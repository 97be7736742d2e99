package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayFrameException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a TCP stream into relay frames (see {@link RelayFrameCodec} for the rule): a frame whose body does
 * not decode is dropped and counted and the stream goes on; a length prefix out of range closes the connection,
 * since nothing after it can be trusted to be a frame boundary.
 */
final class StreamFrameDecoder extends ByteToMessageDecoder {

    /** One decoded frame and the bytes it took on the wire (for rate limiting). */
    record Inbound(RelayFrame frame, int wireBytes) {
    }

    /** Counts a drop: {@link RelayHub#dropped} in the relay. */
    @FunctionalInterface
    interface DropCounter {
        void dropped(DropReason reason, String detail, Object source);
    }

    private final DropCounter drops;

    StreamFrameDecoder(DropCounter drops) {
        this.drops = drops;
    }

    @Override
    protected void decode(ChannelHandlerContext context, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int length;
            try {
                length = RelayFrameCodec.streamFrameLength(
                        in.nioBuffer(in.readerIndex(), Math.min(in.readableBytes(), RelayFrameCodec.STREAM_HEADER_BYTES)));
            } catch (RelayFrameException e) {
                drops.dropped(DropReason.FRAMING, e.getMessage(), context.channel().remoteAddress());
                in.skipBytes(in.readableBytes());
                context.close();
                return;
            }
            if (length < 0 || in.readableBytes() < RelayFrameCodec.STREAM_HEADER_BYTES + length) {
                return;
            }
            in.skipBytes(RelayFrameCodec.STREAM_HEADER_BYTES);
            int start = in.readerIndex();
            in.skipBytes(length);
            try {
                out.add(new Inbound(RelayFrameCodec.decodeFrame(in.nioBuffer(start, length)),
                        RelayFrameCodec.STREAM_HEADER_BYTES + length));
            } catch (RelayFrameException e) {
                drops.dropped(e.reason() == RelayFrameException.Reason.UNKNOWN_TYPE
                        ? DropReason.UNKNOWN_TYPE : DropReason.MALFORMED, e.getMessage(),
                        context.channel().remoteAddress());
            }
        }
    }
}
