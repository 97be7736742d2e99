package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.relay.auth.VerifiedDevice;
import java.net.InetSocketAddress;

/**
 * A client on its own stream connection (TCP). Its send queue is the stream's: once that passes the high
 * watermark frames for this client are dropped until it drains below the low watermark, so a client that stops
 * reading costs the relay a bounded amount of memory and nobody else waits for it.
 */
final class StreamSession extends ClientSession {

    private final FrameStream stream;

    StreamSession(VerifiedDevice device, InetSocketAddress address, TokenBucket bucket, long nowNanos,
            FrameStream stream) {
        super(device, address, bucket, nowNanos);
        this.stream = stream;
    }

    @Override
    Transport transport() {
        return Transport.TCP;
    }

    @Override
    DropReason congestion() {
        return stream.writable() ? null : DropReason.DESTINATION_QUEUE_FULL;
    }

    @Override
    void send(RelayFrame frame) {
        stream.write(frame);
    }

    @Override
    void close(CloseReason reason, String detail) {
        if (!stream.isOpen()) {
            return;
        }
        stream.write(new Goodbye(reason, detail));
        stream.close();
    }
}
