package io.meshwork.relay.server;

import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.Sealed;
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
 * is dropped and counted, nothing else happens. What is answered without a session (STUN, handshake frames, the
 * "unauthenticated" verdict) is charged to the source address's answer budget; after the handshake only SEALED
 * frames from the session's address, with the session's id, a valid tag and a new counter, reach the hub
 * (docs/architecture.md, "Relay").
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
            dropDecodeFailure(e, source);
            return;
        }
        String sourceName = "udp/" + source;
        if (frame instanceof ClientHello hello) {
            // Amplification guard: the challenge must not be larger than the hello that asked for it.
            if (wireBytes < RelayHandshake.MIN_UDP_HELLO_BYTES) {
                hub.dropped(DropReason.UNPADDED_HELLO, wireBytes + " bytes", source);
                return;
            }
            if (hub.mayAnswer(source, DropReason.HANDSHAKE_RATE_LIMITED, "hello")) {
                send(hub.onHello(hello, sourceName), source);
            }
        } else if (frame instanceof ClientAuth auth) {
            // Checking an authentication costs an X25519 and a signature check: it is charged like an answer.
            if (hub.mayAnswer(source, DropReason.HANDSHAKE_RATE_LIMITED, "auth")) {
                hub.onAuth(auth, sourceName,
                        (device, bucket, now) -> new UdpSession(device, source, bucket, now, sender,
                                hub.udpSessionKey(auth)),
                        reply -> send(reply, source));
            }
        } else {
            UdpSession session = hub.udpSession(source);
            if (session == null) {
                hub.dropped(DropReason.UNAUTHENTICATED, frame.type().name(), source);
                if (hub.mayAnswer(source, DropReason.HANDSHAKE_RATE_LIMITED, "unauthenticated")) {
                    send(new AuthResult(AuthStatus.UNAUTHENTICATED, ""), source);
                }
                return;
            }
            if (!(frame instanceof Sealed sealed)) {
                // Unanswered: an answer would let anyone who spoofs the client's address make it authenticate again.
                hub.dropped(DropReason.UNSEALED, frame.type().name(), source);
                return;
            }
            onSealed(session, sealed, wireBytes, source);
        }
    }

    private void onSealed(UdpSession session, Sealed sealed, int wireBytes, InetSocketAddress source) {
        DropReason refused = session.open(sealed);
        if (refused != null) {
            hub.dropped(refused, "session " + Long.toUnsignedString(sealed.sessionId(), 16) + " counter "
                    + Long.toUnsignedString(sealed.counter()), source);
            return;
        }
        RelayFrame inner;
        try {
            inner = RelayFrameCodec.decodeFrame(sealed.inner().duplicate());
        } catch (RelayFrameException e) {
            dropDecodeFailure(e, source);
            return;
        }
        switch (inner.type()) {
            case CLIENT_HELLO, CLIENT_AUTH, SEALED -> hub.dropped(DropReason.UNEXPECTED_FRAME,
                    "sealed " + inner.type().name(), source);
            default -> hub.onSessionFrame(session, inner, wireBytes);
        }
    }

    private void dropDecodeFailure(RelayFrameException e, InetSocketAddress source) {
        hub.dropped(e.reason() == RelayFrameException.Reason.UNKNOWN_TYPE
                ? DropReason.UNKNOWN_TYPE : DropReason.MALFORMED, e.getMessage(), source);
    }

    private void onStun(ByteBuffer datagram, InetSocketAddress source) {
        if (!hub.mayAnswer(source, DropReason.STUN_RATE_LIMITED, "stun")) {
            return;
        }
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
