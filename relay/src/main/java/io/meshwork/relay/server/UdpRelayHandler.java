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
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's UDP socket: relay frames go to the {@link RelayHub}, STUN binding requests are answered on the
 * same port (so a node learns its mapping towards the relay from one socket), anything else is dropped and
 * counted. UDP rule: a datagram that fails to decode is dropped and counted, nothing else happens.
 */
final class UdpRelayHandler extends SimpleChannelInboundHandler<DatagramPacket> {

    private static final Logger log = LoggerFactory.getLogger(UdpRelayHandler.class);

    private final RelayHub hub;
    private UdpSender udpSender;
    private InetSocketAddress local;
    private StunResponder stun;

    UdpRelayHandler(RelayHub hub) {
        this.hub = hub;
    }

    /** The socket is bound now, so its address is known: STUN answers name it as their origin. */
    @Override
    public void channelActive(ChannelHandlerContext context) {
        udpSender = new UdpSender(context.channel());
        local = (InetSocketAddress) context.channel().localAddress();
        stun = new StunResponder(StunServerAddresses.single(local.getAddress(), local.getPort()), "meshwork relay");
        context.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext context, DatagramPacket packet) {
        ByteBuffer datagram = packet.content().nioBuffer();
        InetSocketAddress sender = packet.sender();
        switch (DatagramKind.classify(datagram)) {
            case RELAY -> onRelayDatagram(datagram, sender);
            case STUN -> onStun(datagram, sender);
            default -> hub.dropped(DropReason.NOT_RELAY, datagram.remaining() + " bytes", sender);
        }
    }

    private void onRelayDatagram(ByteBuffer datagram, InetSocketAddress sender) {
        int wireBytes = datagram.remaining();
        RelayFrame frame;
        try {
            frame = RelayFrameCodec.decodeDatagram(datagram);
        } catch (RelayFrameException e) {
            hub.dropped(e.reason() == RelayFrameException.Reason.UNKNOWN_TYPE
                    ? DropReason.UNKNOWN_TYPE : DropReason.MALFORMED, e.getMessage(), sender);
            return;
        }
        String source = "udp/" + sender;
        if (frame instanceof ClientHello hello) {
            // Amplification guard: the challenge must not be larger than the hello that asked for it.
            if (wireBytes < RelayHandshake.MIN_UDP_HELLO_BYTES) {
                hub.dropped(DropReason.UNPADDED_HELLO, wireBytes + " bytes", sender);
                return;
            }
            send(hub.onHello(hello, source), sender);
        } else if (frame instanceof ClientAuth auth) {
            hub.onAuth(auth, source,
                    (device, bucket, now) -> new UdpSession(device, sender, bucket, now, udpSender),
                    reply -> send(reply, sender));
        } else {
            UdpSession session = hub.udpSession(sender);
            if (session == null) {
                hub.dropped(DropReason.UNAUTHENTICATED, frame.type().name(), sender);
                send(new AuthResult(AuthStatus.UNAUTHENTICATED, ""), sender);
                return;
            }
            hub.onSessionFrame(session, frame, wireBytes);
        }
    }

    private void onStun(ByteBuffer datagram, InetSocketAddress sender) {
        StunResponder.Outcome outcome = stun.respond(datagram, sender, local);
        if (outcome instanceof StunResponder.Reply reply) {
            if (!udpSender.send(reply.datagram(), reply.to())) {
                hub.dropped(DropReason.UDP_SEND_BUFFER_FULL, "stun answer", sender);
            }
        } else if (outcome instanceof StunResponder.Drop drop) {
            hub.dropped(DropReason.MALFORMED, "stun " + drop.reason() + " " + drop.detail(), sender);
        }
    }

    private void send(RelayFrame frame, InetSocketAddress to) {
        if (!udpSender.send(frame, to)) {
            hub.dropped(DropReason.UDP_SEND_BUFFER_FULL, frame.type().name(), to);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        log.debug("UDP listener error: {}", cause.toString());
    }
}
