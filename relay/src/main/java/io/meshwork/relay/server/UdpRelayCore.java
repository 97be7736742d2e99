package io.meshwork.relay.server;

import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayFrameException;
import io.meshwork.protocol.relay.RelayHandshake;
import io.meshwork.protocol.stun.StunResponder;
import io.meshwork.protocol.stun.StunServerAddresses;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * What the relay does with one datagram on its UDP socket, whatever the socket is: relay frames go to the
 * {@link RelayHub}, STUN binding requests are answered on the same port (so a node learns its mapping towards
 * the relay from one socket), anything else is dropped and counted. UDP rule: a datagram that fails to decode
 * is dropped and counted, nothing else happens.
 */
final class UdpRelayCore {

    private final RelayHub hub;
    private final DatagramSender sender;
    private final InetSocketAddress local;
    private final StunResponder stun;

    /** {@code local} is the socket's bound address: STUN answers name it as their origin. */
    UdpRelayCore(RelayHub hub, DatagramSender sender, InetSocketAddress local) {
        this.hub = hub;
        this.sender = sender;
        this.local = local;
        this.stun = new StunResponder(StunServerAddresses.single(local.getAddress(), local.getPort()),
                "meshwork relay");
    }

    /** Handles one datagram from {@code source}; the buffer is not kept past the call. */
    void onDatagram(ByteBuffer datagram, InetSocketAddress source) {
        switch (DatagramKind.classify(datagram)) {
            case RELAY -> onRelayDatagram(datagram, source);
            case STUN -> onStun(datagram, source);
            default -> hub.dropped(DropReason.NOT_RELAY, datagram.remaining() + " bytes", source);
        }
    }

    private void onRelayDatagram(ByteBuffer datagram, InetSocketAddress source) {
        int wireBytes = datagram.remaining();
        RelayFrame frame;
        try {
            frame = RelayFrameCodec.decodeDatagram(datagram);
        } catch (RelayFrameException e) {
            hub.dropped(e.reason() == RelayFrameException.Reason.UNKNOWN_TYPE
                    ? DropReason.UNKNOWN_TYPE : DropReason.MALFORMED, e.getMessage(), source);
            return;
        }
        String sourceName = "udp/" + source;
        if (frame instanceof ClientHello hello) {
            // Amplification guard: the challenge must not be larger than the hello that asked for it.
            if (wireBytes < RelayHandshake.MIN_UDP_HELLO_BYTES) {
                hub.dropped(DropReason.UNPADDED_HELLO, wireBytes + " bytes", source);
                return;
            }
            send(hub.onHello(hello, sourceName), source);
        } else if (frame instanceof ClientAuth auth) {
            hub.onAuth(auth, sourceName,
                    (device, bucket, now) -> new UdpSession(device, source, bucket, now, sender),
                    reply -> send(reply, source));
        } else {
            UdpSession session = hub.udpSession(source);
            if (session == null) {
                hub.dropped(DropReason.UNAUTHENTICATED, frame.type().name(), source);
                send(new AuthResult(AuthStatus.UNAUTHENTICATED, ""), source);
                return;
            }
            hub.onSessionFrame(session, frame, wireBytes);
        }
    }

    private void onStun(ByteBuffer datagram, InetSocketAddress source) {
        StunResponder.Outcome outcome = stun.respond(datagram, source, local);
        if (outcome instanceof StunResponder.Reply reply) {
            if (!sender.send(reply.datagram(), reply.to())) {
                hub.dropped(DropReason.UDP_SEND_BUFFER_FULL, "stun answer", source);
            }
        } else if (outcome instanceof StunResponder.Drop drop) {
            hub.dropped(DropReason.MALFORMED, "stun " + drop.reason() + " " + drop.detail(), source);
        }
    }

    private void send(RelayFrame frame, InetSocketAddress to) {
        if (!sender.send(frame, to)) {
            hub.dropped(DropReason.UDP_SEND_BUFFER_FULL, frame.type().name(), to);
        }
    }
}
