package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.relay.auth.VerifiedDevice;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;

/**
 * A client on the relay's UDP socket, known by its source address. UDP sends never wait on the receiver, so
 * the only queue is the relay socket's own send buffer, shared by all UDP clients and bounded by the channel's
 * write-buffer watermarks; fairness between senders comes from their rate limits.
 */
final class UdpSession extends ClientSession {

    private final Channel udpChannel;

    UdpSession(VerifiedDevice device, InetSocketAddress address, TokenBucket bucket, long nowNanos, Channel udpChannel) {
        super(device, address, bucket, nowNanos);
        this.udpChannel = udpChannel;
    }

    @Override
    Transport transport() {
        return Transport.UDP;
    }

    @Override
    DropReason deliver(RelayFrame frame) {
        if (!udpChannel.isWritable()) {
            return DropReason.UDP_SEND_BUFFER_FULL;
        }
        udpChannel.writeAndFlush(new DatagramPacket(
                Unpooled.wrappedBuffer(RelayFrameCodec.encodeDatagram(frame)), observedAddress()),
                udpChannel.voidPromise());
        return null;
    }

    @Override
    void close(CloseReason reason, String detail) {
        deliver(new Goodbye(reason, detail));
    }
}
