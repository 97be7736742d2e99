package io.meshwork.relay.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;

/**
 * Sends datagrams on the relay's UDP socket with one flush per event-loop pass instead of one per datagram, so
 * the datagrams forwarded from one batch of reads leave in one {@code sendmmsg} call (Netty's epoll channel
 * batches what is flushed together). Safe from any thread: other threads' writes are queued tasks that flush
 * themselves, since a flush scheduled earlier could run before them.
 */
final class NettyDatagramSender implements DatagramSender {

    private final Channel channel;
    private final Runnable flush;
    /** Touched only on the channel's event loop. */
    private boolean flushPending;

    NettyDatagramSender(Channel channel) {
        this.channel = channel;
        this.flush = () -> {
            flushPending = false;
            channel.flush();
        };
    }

    @Override
    public boolean writable() {
        return channel.isWritable();
    }

    @Override
    public boolean send(byte[] datagram, InetSocketAddress to) {
        if (!channel.isWritable()) {
            return false;
        }
        DatagramPacket packet = new DatagramPacket(Unpooled.wrappedBuffer(datagram), to);
        if (!channel.eventLoop().inEventLoop()) {
            channel.writeAndFlush(packet, channel.voidPromise());
            return true;
        }
        channel.write(packet, channel.voidPromise());
        if (!flushPending) {
            flushPending = true;
            // Runs after the loop has handled this pass's reads.
            channel.eventLoop().execute(flush);
        }
        return true;
    }
}
