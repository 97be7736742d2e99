package io.meshwork.relay.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The relay's Netty UDP socket: hands every datagram to a {@link UdpRelayCore} that answers on the same socket. */
final class UdpRelayHandler extends SimpleChannelInboundHandler<DatagramPacket> {

    private static final Logger log = LoggerFactory.getLogger(UdpRelayHandler.class);

    private final RelayHub hub;
    private UdpRelayCore core;

    UdpRelayHandler(RelayHub hub) {
        this.hub = hub;
    }

    /** The socket is bound now, so its address is known: STUN answers name it as their origin. */
    @Override
    public void channelActive(ChannelHandlerContext context) {
        core = new UdpRelayCore(hub, new NettyDatagramSender(context.channel()),
                (InetSocketAddress) context.channel().localAddress());
        context.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext context, DatagramPacket packet) {
        core.onDatagram(packet.content().nioBuffer(), packet.sender());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        log.debug("UDP listener error: {}", cause.toString());
    }
}
