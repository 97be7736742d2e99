package io.meshwork.node.dataplane;

import io.meshwork.node.filter.PacketFilter;
import io.meshwork.node.filter.PacketHeaders;
import io.meshwork.protocol.wireguard.ChaChaPoly;
import io.meshwork.protocol.wireguard.Keypair;
import io.meshwork.protocol.wireguard.Messages;
import io.meshwork.protocol.wireguard.ReplayWindow;
import io.meshwork.protocol.wireguard.Timers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The send side of a {@link WireGuardDevice}: IP packets from the TUN device to peers as transport messages
 * (WireGuard §5.4.6).
 *
 * <p>Pipeline: read a packet from the TUN device into one direct buffer; route it by destination address through
 * the allowed IPs (WireGuard §2); let the packet filter record its flow; without a usable session stage a copy on
 * the peer and start a handshake, else seal it (padded in place to a multiple of 16 bytes) into one sealing buffer
 * and queue it on the transport with {@code sendLater}. Up to 64 packets the TUN device has ready make one batch,
 * handed to the socket with one {@code flush} (one wake-up of the I/O thread, one {@code sendmmsg}). The read and
 * sealing buffers are reused for every packet, and a packet with a session is not copied on its way to the socket
 * (only staging copies).
 *
 * <p>Threads: {@link #run} is the body of the TUN reader thread ({@code wg-tun-NAME}), the only thread that
 * touches the read buffer, the sealing buffer and {@link #headers}. {@link #flushStaged} and {@link #sendKeepalive}
 * run elsewhere: on the receiving thread that completed a handshake (the Netty event loop for the socket, the TCP
 * relay reader thread for the relay), and for keepalives on the timer thread or a configuration call's thread; they
 * use buffers of their own and send at once instead of batching.
 */
final class OutboundPipeline {

    private static final Logger log = LoggerFactory.getLogger(OutboundPipeline.class);
    private static final int MAX_PACKET = WireGuardDevice.MAX_PACKET;

    private final WireGuardDevice device;
    private final TunDevice tun;
    private final AllowedIps<Peer> allowedIps;
    /** Filter scratch, used only on the TUN reader thread. */
    private final PacketHeaders headers = new PacketHeaders();

    OutboundPipeline(WireGuardDevice device, TunDevice tun, AllowedIps<Peer> allowedIps) {
        this.device = device;
        this.tun = tun;
        this.allowedIps = allowedIps;
    }

    /** Reads packets in batches: everything the interface has ready (up to 64) goes to the socket in one hand-off. */
    void run() {
        ByteBuffer packet = ByteBuffer.allocateDirect(MAX_PACKET + 16);
        ByteBuffer sealed = ByteBuffer.allocate(MAX_PACKET + Messages.TRANSPORT_MIN_SIZE + 16);
        while (!device.closed()) {
            int length = readTun(packet, 250);
            int batch = 0;
            while (length > 0) {
                packet.flip();
                try {
                    routeOutbound(packet, sealed);
                } catch (RuntimeException e) {
                    log.warn("sending a packet from {} failed", tun.name(), e);
                }
                if (++batch == 64) {
                    break;
                }
                length = readTun(packet, 0);
            }
            if (batch > 0) {
                device.transport().flush();
            }
            if (length < 0) {
                return;
            }
        }
    }

    private int readTun(ByteBuffer packet, int timeoutMillis) {
        packet.clear();
        packet.limit(MAX_PACKET);
        try {
            return tun.read(packet, timeoutMillis);
        } catch (IOException e) {
            if (!device.closed()) {
                log.warn("reading {} failed: {}", tun.name(), e.getMessage());
            }
            return -1;
        }
    }

    /** Sends one IP packet from the interface to the peer its destination routes to. */
    void routeOutbound(ByteBuffer packet, ByteBuffer sealed) {
        int version = (packet.get(0) & 0xFF) >>> 4;
        Peer peer;
        if (version == 4 && packet.remaining() >= 20) {
            peer = allowedIps.lookup(packet, 16, 4);
        } else if (version == 6 && packet.remaining() >= 40) {
            peer = allowedIps.lookup(packet, 24, 16);
        } else {
            device.drop(DropReason.NOT_IP, "version " + version, tun.name());
            return;
        }
        if (peer == null) {
            device.drop(DropReason.NO_ROUTE, "", tun.name());
            return;
        }
        PacketFilter filter = device.packetFilter();
        if (filter != null) {
            filter.outbound(packet, headers);
        }
        send(peer, packet, sealed);
    }

    private void send(Peer peer, ByteBuffer packet, ByteBuffer sealed) {
        long now = System.nanoTime();
        Keypair keys = peer.keypairs.current;
        if (keys == null || Timers.expired(keys.createdNanos(), now)
                || Long.compareUnsigned(keys.sendCount(), ReplayWindow.REJECT_AFTER_MESSAGES) >= 0) {
            stage(peer, packet);
            device.handshakes().initiateIfIdle(peer, now);
            return;
        }
        device.timers().beforeSending(peer, keys, now);
        encryptAndSend(peer, keys, packet, sealed, now, true);
    }

    private void stage(Peer peer, ByteBuffer packet) {
        byte[] copy = new byte[packet.remaining()];
        packet.duplicate().get(copy);
        if (!peer.staged.offer(copy)) {
            peer.staged.poll();
            device.drop(DropReason.STAGED_QUEUE_FULL, "", peer.publicKey());
            peer.staged.offer(copy);
        }
    }

    /**
     * Encrypts one packet for {@code peer}; {@code batched} queues it for the sending thread's next flush instead
     * of sending it at once.
     */
    private void encryptAndSend(Peer peer, Keypair keys, ByteBuffer payload, ByteBuffer sealed, long now,
            boolean batched) {
        if (!device.hasPath(peer)) {
            device.drop(DropReason.NO_ENDPOINT, "", peer.publicKey());
            return;
        }
        int length = payload.remaining();
        // WireGuard §5.4.6: pad the plaintext to a multiple of 16 bytes.
        int padding = (16 - (length % 16)) % 16;
        long counter = keys.nextSendCounter();
        sealed.clear();
        sealed.order(ByteOrder.LITTLE_ENDIAN);
        sealed.putInt(Messages.TYPE_TRANSPORT);
        sealed.putInt(keys.remoteIndex());
        sealed.putLong(counter);
        ByteBuffer plaintext;
        if (padding == 0) {
            plaintext = payload;
        } else if (!payload.isReadOnly() && payload.capacity() - payload.limit() >= padding) {
            // Pad in place: the read buffer has room after the packet.
            int limit = payload.limit();
            payload.limit(limit + padding);
            for (int i = limit; i < limit + padding; i++) {
                payload.put(i, (byte) 0);
            }
            plaintext = payload;
        } else {
            plaintext = ByteBuffer.allocate(length + padding);
            plaintext.put(payload.duplicate());
            plaintext.position(0);
        }
        ChaChaPoly.seal(keys.sendKey(), counter, plaintext, sealed, null);
        sealed.flip();
        int wireLength = sealed.remaining();
        if (!device.deliver(peer, sealed, batched)) {
            device.drop(DropReason.NO_ENDPOINT, "relay not connected", peer.publicKey());
            return;
        }
        peer.counters.txBytes.addAndGet(wireLength);
        peer.clocks.anySent = now;
        if (length > 0) {
            peer.clocks.dataSent = now;
        }
    }

    void sendKeepalive(Peer peer) {
        long now = System.nanoTime();
        Keypair keys = peer.keypairs.current;
        if (keys == null || Timers.expired(keys.createdNanos(), now)) {
            return;
        }
        encryptAndSend(peer, keys, ByteBuffer.allocate(0), ByteBuffer.allocate(Messages.TRANSPORT_MIN_SIZE), now,
                false);
    }

    /** After our initiation completed: send what waited, or a keepalive to confirm the keys (§6.1). */
    void flushStaged(Peer peer) {
        ByteBuffer sealed = ByteBuffer.allocate(MAX_PACKET + Messages.TRANSPORT_MIN_SIZE + 16);
        byte[] packet;
        boolean sentAny = false;
        while ((packet = peer.staged.poll()) != null) {
            Keypair keys = peer.keypairs.current;
            if (keys == null) {
                return;
            }
            encryptAndSend(peer, keys, ByteBuffer.wrap(packet), sealed, System.nanoTime(), false);
            sentAny = true;
        }
        if (!sentAny) {
            sendKeepalive(peer);
        }
    }

    void flushStagedIfAny(Peer peer) {
        if (!peer.staged.isEmpty()) {
            flushStaged(peer);
        }
    }
}
