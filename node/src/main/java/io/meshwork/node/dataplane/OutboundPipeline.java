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
 * <p>With TUN offloads ({@link TunDevice#offloads()}) each read is a frame that may hold a TCP or UDP
 * super-packet of up to 64 KB: it is routed and filtered once, split by {@link TunOffload.Segmenter} into
 * MTU-sized packets, and each is sealed into one batch buffer back to back; the sealed datagrams of one
 * super-packet (all of one size but the last) go to the transport with one {@code sendLaterSegments}, which is
 * one UDP GSO send where the socket has it. A plain packet in a frame has its partial checksum completed in place
 * and goes the usual way. The segments keep their order and take consecutive counters.
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
    /** Splits super-packets; TUN reader thread only. */
    private final TunOffload.Segmenter segmenter = new TunOffload.Segmenter();
    /** Largest batch of sealed segments handed over at once: what one UDP GSO send can carry. */
    static final int MAX_SEGMENT_BATCH_BYTES = 65507 - 8;
    static final int MAX_SEGMENT_BATCH = 64;

    OutboundPipeline(WireGuardDevice device, TunDevice tun, AllowedIps<Peer> allowedIps) {
        this.device = device;
        this.tun = tun;
        this.allowedIps = allowedIps;
    }

    /** Reads packets in batches: everything the interface has ready (up to 64) goes to the socket in one hand-off. */
    void run() {
        boolean offloads = tun.offloads();
        ByteBuffer packet = ByteBuffer.allocateDirect(TunOffload.HEADER_SIZE + MAX_PACKET + 16);
        ByteBuffer sealed = ByteBuffer.allocate(MAX_PACKET + Messages.TRANSPORT_MIN_SIZE + 16);
        ByteBuffer segment = offloads ? ByteBuffer.allocate(MAX_PACKET + 16) : null;
        while (!device.closed()) {
            int length = readTun(packet, 250);
            int batch = 0;
            while (length > 0) {
                packet.flip();
                try {
                    if (offloads) {
                        routeFrame(packet, sealed, segment);
                    } else {
                        routeOutbound(packet, sealed);
                    }
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
        packet.limit(TunOffload.HEADER_SIZE + MAX_PACKET);
        try {
            return tun.read(packet, timeoutMillis);
        } catch (IOException e) {
            if (!device.closed()) {
                log.warn("reading {} failed: {}", tun.name(), e.getMessage());
            }
            return -1;
        }
    }

    /** Sends one frame (virtio_net_hdr and packet) from an interface with offloads. */
    private void routeFrame(ByteBuffer frame, ByteBuffer sealed, ByteBuffer segment) {
        int count;
        try {
            count = segmenter.parse(frame, frame.position(), frame.limit());
        } catch (TunOffload.MalformedFrame e) {
            device.drop(DropReason.NOT_IP, e.getMessage(), tun.name());
            return;
        }
        frame.limit(segmenter.packetEnd()).position(segmenter.packetStart());
        if (!segmenter.segmented()) {
            routeOutbound(frame, sealed);
            return;
        }
        Peer peer = route(frame);
        if (peer == null) {
            return;
        }
        sendSegments(peer, count, segment, sealed);
    }

    /** Sends one IP packet from the interface to the peer its destination routes to. */
    void routeOutbound(ByteBuffer packet, ByteBuffer sealed) {
        Peer peer = route(packet);
        if (peer != null) {
            send(peer, packet, sealed);
        }
    }

    /** The peer the packet's destination routes to, after the filter saw it; null (dropped, counted) if none. */
    private Peer route(ByteBuffer packet) {
        int start = packet.position();
        int version = (packet.get(start) & 0xFF) >>> 4;
        Peer peer;
        if (version == 4 && packet.remaining() >= 20) {
            peer = allowedIps.lookup(packet, start + 16, 4);
        } else if (version == 6 && packet.remaining() >= 40) {
            peer = allowedIps.lookup(packet, start + 24, 16);
        } else {
            device.drop(DropReason.NOT_IP, "version " + version, tun.name());
            return null;
        }
        if (peer == null) {
            device.drop(DropReason.NO_ROUTE, "", tun.name());
            return null;
        }
        PacketFilter filter = device.packetFilter();
        if (filter != null) {
            filter.outbound(packet, headers);
        }
        return peer;
    }

    /**
     * Sends the {@code count} segments of the super-packet the segmenter holds: each written to {@code segment},
     * sealed into {@code batch} behind the previous ones, and the batch handed over whenever the next segment
     * would not fit one GSO send, or a shorter (last) segment ended it.
     */
    private void sendSegments(Peer peer, int count, ByteBuffer segment, ByteBuffer batch) {
        long now = System.nanoTime();
        Keypair keys = peer.keypairs.current;
        if (keys == null || Timers.expired(keys.createdNanos(), now)
                || Long.compareUnsigned(keys.sendCount(), ReplayWindow.REJECT_AFTER_MESSAGES) >= 0) {
            for (int i = 0; i < count; i++) {
                segment.clear();
                segmenter.write(i, segment);
                segment.flip();
                stage(peer, segment);
            }
            device.handshakes().initiateIfIdle(peer, now);
            return;
        }
        if (!device.hasPath(peer)) {
            device.drop(DropReason.NO_ENDPOINT, "", peer.publicKey());
            return;
        }
        device.timers().beforeSending(peer, keys, now);
        batch.clear();
        int segmentSize = 0;
        int inBatch = 0;
        for (int i = 0; i < count; i++) {
            segment.clear();
            segmenter.write(i, segment);
            segment.flip();
            int expected = sealedSize(segment.remaining());
            if (inBatch > 0 && (expected > segmentSize || batch.position() + expected > MAX_SEGMENT_BATCH_BYTES)) {
                handOver(peer, batch, segmentSize, now);
                inBatch = 0;
            }
            int before = batch.position();
            seal(keys, segment, batch);
            int size = batch.position() - before;
            if (inBatch == 0) {
                segmentSize = size;
            }
            inBatch++;
            if (size < segmentSize || inBatch == MAX_SEGMENT_BATCH) {
                handOver(peer, batch, segmentSize, now);
                inBatch = 0;
            }
        }
        if (inBatch > 0) {
            handOver(peer, batch, segmentSize, now);
        }
    }

    private static int sealedSize(int length) {
        return Messages.TRANSPORT_HEADER_SIZE + (length + 15) / 16 * 16 + ChaChaPoly.TAG_LENGTH;
    }

    private void handOver(Peer peer, ByteBuffer batch, int segmentSize, long now) {
        batch.flip();
        int wireLength = batch.remaining();
        if (!device.deliverSegments(peer, batch, segmentSize)) {
            device.drop(DropReason.NO_ENDPOINT, "relay not connected", peer.publicKey());
        } else {
            peer.counters.txBytes.addAndGet(wireLength);
            peer.clocks.anySent = now;
            peer.clocks.dataSent = now;
        }
        batch.clear();
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
    /** Whether the message reached a path (the socket, or the relay connection). */
    private boolean encryptAndSend(Peer peer, Keypair keys, ByteBuffer payload, ByteBuffer sealed, long now,
            boolean batched) {
        if (!device.hasPath(peer)) {
            device.drop(DropReason.NO_ENDPOINT, "", peer.publicKey());
            return false;
        }
        int length = payload.remaining();
        sealed.clear();
        seal(keys, payload, sealed);
        sealed.flip();
        int wireLength = sealed.remaining();
        if (!device.deliver(peer, sealed, batched)) {
            device.drop(DropReason.NO_ENDPOINT, "relay not connected", peer.publicKey());
            return false;
        }
        peer.counters.txBytes.addAndGet(wireLength);
        peer.clocks.anySent = now;
        peer.clocks.confirmationUndelivered = false;
        if (length > 0) {
            peer.clocks.dataSent = now;
        }
        return true;
    }

    /**
     * Seals one packet as a transport message at {@code out}'s position and advances it; the plaintext is padded
     * to a multiple of 16 bytes (WireGuard §5.4.6), in place when its buffer has room after it.
     */
    private static void seal(Keypair keys, ByteBuffer payload, ByteBuffer out) {
        int length = payload.remaining();
        int padding = (16 - (length % 16)) % 16;
        long counter = keys.nextSendCounter();
        ByteOrder order = out.order();
        out.order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(Messages.TYPE_TRANSPORT);
        out.putInt(keys.remoteIndex());
        out.putLong(counter);
        out.order(order);
        ByteBuffer plaintext;
        if (padding == 0) {
            plaintext = payload;
        } else if (!payload.isReadOnly() && payload.capacity() - payload.limit() >= padding) {
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
        ChaChaPoly.seal(keys.sendKey(), counter, plaintext, out, null);
    }

    /** Whether a keepalive went out on a path. */
    boolean sendKeepalive(Peer peer) {
        long now = System.nanoTime();
        Keypair keys = peer.keypairs.current;
        if (keys == null || Timers.expired(keys.createdNanos(), now)) {
            return false;
        }
        return encryptAndSend(peer, keys, ByteBuffer.allocate(0), ByteBuffer.allocate(Messages.TRANSPORT_MIN_SIZE),
                now, false);
    }

    /**
     * After our initiation completed: send what waited, or a keepalive to confirm the keys (§6.1). When none of it
     * reached a path (the response came by one path and the peer's is another, still connecting), the peer is
     * marked {@code confirmationUndelivered}, and the next time a path becomes usable a keepalive confirms the
     * session ({@link WireGuardDevice#initiateHandshake}) instead of the peer waiting for its own retry.
     */
    void flushStaged(Peer peer) {
        ByteBuffer sealed = ByteBuffer.allocate(MAX_PACKET + Messages.TRANSPORT_MIN_SIZE + 16);
        byte[] packet;
        boolean delivered = false;
        while ((packet = peer.staged.poll()) != null) {
            Keypair keys = peer.keypairs.current;
            if (keys == null) {
                return;
            }
            delivered |= encryptAndSend(peer, keys, ByteBuffer.wrap(packet), sealed, System.nanoTime(), false);
        }
        if (!delivered && !sendKeepalive(peer)) {
            peer.clocks.confirmationUndelivered = true;
        }
    }

    void flushStagedIfAny(Peer peer) {
        if (!peer.staged.isEmpty()) {
            flushStaged(peer);
        }
    }
}
