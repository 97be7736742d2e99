package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.UdpSessionKey;
import io.meshwork.protocol.wireguard.ReplayWindow;
import io.meshwork.relay.auth.VerifiedDevice;
import java.net.InetSocketAddress;

/**
 * A client on the relay's UDP socket, known by its source address and its session key: every frame it sends is
 * sealed with the key ({@link UdpSessionKey}) and numbered, and a counter is accepted once ({@link ReplayWindow}),
 * so neither a spoofed source address nor a captured datagram speaks for the device. UDP sends never wait on the receiver, so
 * the only queue is the relay socket's own send buffer, shared by all UDP clients and bounded by the channel's
 * write-buffer watermarks; fairness between senders comes from their rate limits.
 */
final class UdpSession extends ClientSession {

    private final DatagramSender sender;
    private final UdpSessionKey sessionKey;
    private final ReplayWindow received = new ReplayWindow();

    UdpSession(VerifiedDevice device, InetSocketAddress address, TokenBucket bucket, long nowNanos,
            DatagramSender sender, UdpSessionKey sessionKey) {
        super(device, address, bucket, nowNanos);
        this.sender = sender;
        this.sessionKey = sessionKey;
    }

    @Override
    long udpSessionId() {
        return sessionKey.id();
    }

    /** Why a sealed frame from the client's address is refused, or null when it is authentic and new. */
    DropReason open(RelayFrame.Sealed sealed) {
        if (sealed.sessionId() != sessionKey.id()) {
            return DropReason.UNKNOWN_SESSION;
        }
        if (!received.mayAccept(sealed.counter())) {
            return DropReason.REPLAYED;
        }
        if (!sessionKey.verify(sealed)) {
            return DropReason.BAD_MAC;
        }
        // Recorded only once authentic, so forgeries cannot use up counters.
        return received.accept(sealed.counter()) ? null : DropReason.REPLAYED;
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
