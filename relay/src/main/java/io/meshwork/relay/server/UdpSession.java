package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.relay.auth.VerifiedDevice;
import java.net.InetSocketAddress;

/**
 * A client on the relay's UDP socket, known by its source address. UDP sends never wait on the receiver, so
 * the only queue is the relay socket's own send buffer, shared by all UDP clients and bounded by the channel's
 * write-buffer watermarks; fairness between senders comes from their rate limits.
 */
final class UdpSession extends ClientSession {

    private final DatagramSender sender;

    UdpSession(VerifiedDevice device, InetSocketAddress address, TokenBucket bucket, long nowNanos, DatagramSender sender) {
        super(device, address, bucket, nowNanos);
        this.sender = sender;
    }

    @Override
    Transport transport() {
        return Transport.UDP;
    }

    @Override
    DropReason congestion() {
        return sender.writable() ? null : DropReason.UDP_SEND_BUFFER_FULL;
    }

    @Override
    void send(RelayFrame frame) {
        sender.send(frame, observedAddress());
    }

    @Override
    void close(CloseReason reason, String detail) {
        deliver(new Goodbye(reason, detail));
    }
}
