package io.meshwork.node.dataplane;

import io.meshwork.node.filter.PacketFilter;
import io.meshwork.node.filter.PacketHeaders;
import io.meshwork.node.filter.Verdict;
import io.meshwork.protocol.wireguard.ChaChaPoly;
import io.meshwork.protocol.wireguard.Keypair;
import io.meshwork.protocol.wireguard.LocalIdentity;
import io.meshwork.protocol.wireguard.Messages;
import io.meshwork.protocol.wireguard.Timers;
import io.meshwork.protocol.wireguard.WireGuardException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import javax.crypto.AEADBadTagException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receive side of a {@link WireGuardDevice}: WireGuard datagrams from the socket or the relay to the TUN device.
 *
 * <p>Pipeline: check the message's size for its type (WireGuard §5.4); hand handshake messages and cookie replies
 * to {@link Handshakes} (they are copied out, being rare); for a transport message (§5.4.6) find the session by
 * its receiver index, refuse expired keys and replayed counters, decrypt into this thread's plaintext buffer, and
 * only then let the counter into the replay window; roam the peer's path to the sender (§2.1); check the packet's
 * source address against the peer's allowed IPs (§2, cryptokey routing), pass it through the packet filter and
 * write it to the TUN device. After the packet is out: the first message on the responder's next session confirms
 * it, staged packets go out, and an initiator with aging keys starts a rekey (§6.2). A transport message is not
 * copied: the ciphertext is read in place and decrypted into the thread's reused plaintext buffer.
 *
 * <p>With TUN offloads and a transport that reports the end of each read batch, decrypted packets that passed
 * every check go to this thread's {@link TunOffload.Coalescer} instead of straight to the device: consecutive
 * segments of one TCP flow become one super-packet, written with one system call when a packet that does not
 * continue it arrives or when the batch ends ({@link #flushCoalesced}). Order is kept: a packet that cannot join
 * first pushes out what is pending. The relay's receiving threads write packet by packet.
 *
 * <p>Threads: {@link #onDatagram} runs on whichever thread delivers a datagram, several at once: the Netty event
 * loop (the transport's I/O thread) for the socket, including relay frames that come over UDP, and the TCP relay
 * reader thread for relay frames over TCP. So nothing here is owned scratch: each receiving thread has its own
 * plaintext buffer and filter scratch, and the state receivers share (index table, sessions, replay windows,
 * counters) is concurrent or locked.
 */
final class InboundPipeline {

    private static final Logger log = LoggerFactory.getLogger(InboundPipeline.class);
    /** Filter scratch per receiving thread: the socket's I/O thread and the relay client's both deliver inbound. */
    private static final ThreadLocal<PacketHeaders> INBOUND_HEADERS = ThreadLocal.withInitial(PacketHeaders::new);
    /**
     * Plaintext scratch per receiving thread, for the same reason: a buffer shared by the receive paths was
     * overwritten by one while the other was still checking or writing its packet. Direct, since {@link LinuxTun}
     * writes from direct buffers only; one per thread that ever receives, which is a handful.
     */
    private static final ThreadLocal<ByteBuffer> DECRYPTED =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(WireGuardDevice.MAX_PACKET));

    /** Ciphertext and plaintext arrays per receiving thread for the coalescing path (see receiveTransport). */
    private static final ThreadLocal<ByteBuffer> CIPHERTEXT =
            ThreadLocal.withInitial(() -> ByteBuffer.allocate(WireGuardDevice.MAX_PACKET + 64));
    private static final ThreadLocal<ByteBuffer> PLAINTEXT =
            ThreadLocal.withInitial(() -> ByteBuffer.allocate(WireGuardDevice.MAX_PACKET + 64));

    private final WireGuardDevice device;
    private final TunDevice tun;
    private final AllowedIps<Peer> allowedIps;
    private final IndexTable indices;
    /** One coalescer per thread that receives with coalescing on (the socket's I/O thread): bounded by threads. */
    private final ThreadLocal<TunOffload.Coalescer> coalescer;

    InboundPipeline(WireGuardDevice device, TunDevice tun, AllowedIps<Peer> allowedIps, IndexTable indices) {
        this.device = device;
        this.tun = tun;
        this.allowedIps = allowedIps;
        this.indices = indices;
        this.coalescer = ThreadLocal.withInitial(() -> new TunOffload.Coalescer(
                ByteBuffer.allocateDirect(TunOffload.HEADER_SIZE + TunOffload.MAX_PACKET), this::writeFrame));
    }

    private void writeFrame(ByteBuffer frame) {
        try {
            tun.writeFrame(frame);
        } catch (IOException e) {
            log.debug("writing to {} failed: {}", tun.name(), e.getMessage());
        }
    }

    /** Writes out what this thread coalesced; the transport calls it when a batch of datagrams ends. */
    void flushCoalesced() {
        if (tun.offloads()) {
            coalescer.get().flush();
        }
    }

    /** Handles one WireGuard datagram from the socket or the relay; {@code datagram} is only valid during the call. */
    void onDatagram(ByteBuffer datagram, InetSocketAddress sender) {
        onDatagram(datagram, sender, false);
    }

    /**
     * As {@link #onDatagram(ByteBuffer, InetSocketAddress)}; with {@code coalesce}, a data packet may wait in this
     * thread's coalescer until {@link #flushCoalesced}.
     */
    void onDatagram(ByteBuffer datagram, InetSocketAddress sender, boolean coalesce) {
        int type = Messages.type(datagram);
        try {
            Messages.checkSize(type, datagram.remaining());
        } catch (WireGuardException e) {
            device.drop(DropReason.MALFORMED, e.getMessage(), sender);
            return;
        }
        LocalIdentity local = device.identity();
        if (local == null) {
            device.drop(DropReason.UNKNOWN_PEER, "no private key configured", sender);
            return;
        }
        if (type == Messages.TYPE_TRANSPORT) {
            receiveTransport(datagram, sender, coalesce);
            return;
        }
        byte[] message = new byte[datagram.remaining()];
        datagram.duplicate().get(message);
        long now = System.nanoTime();
        switch (type) {
            case Messages.TYPE_INITIATION -> device.handshakes().receiveInitiation(local, message, sender, now);
            case Messages.TYPE_RESPONSE -> device.handshakes().receiveResponse(local, message, sender, now);
            default -> device.handshakes().receiveCookieReply(message, sender, now);
        }
    }

    private void receiveTransport(ByteBuffer datagram, InetSocketAddress sender, boolean coalesce) {
        int start = datagram.position();
        ByteBuffer header = datagram.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int receiver = header.getInt(start + Messages.TRANSPORT_RECEIVER);
        long counter = header.getLong(start + Messages.TRANSPORT_COUNTER);
        IndexTable.Entry entry = indices.get(receiver);
        if (entry == null || entry.keypair() == null) {
            device.drop(DropReason.UNKNOWN_INDEX, "transport", sender);
            return;
        }
        Keypair keys = entry.keypair();
        Peer peer = entry.peer();
        long now = System.nanoTime();
        if (Timers.expired(keys.createdNanos(), now)) {
            device.drop(DropReason.EXPIRED_KEYS, "", sender);
            return;
        }
        if (!keys.replayWindow().mayAccept(counter)) {
            device.drop(DropReason.REPLAYED, "counter " + counter, sender);
            return;
        }
        ByteBuffer ciphertext = datagram.duplicate();
        ciphertext.position(start + Messages.TRANSPORT_HEADER_SIZE);
        if (coalesce && !ciphertext.hasArray()) {
            // The JCE cipher works on arrays: handed direct buffers it copies through temporary arrays of its
            // own, twice. One copy into a reused array is cheaper, and the coalescer copies the plaintext anyway.
            ByteBuffer copy = CIPHERTEXT.get();
            copy.clear();
            copy.put(ciphertext).flip();
            ciphertext = copy;
        }
        ByteBuffer decrypted = coalesce ? PLAINTEXT.get() : DECRYPTED.get();
        decrypted.clear();
        int length;
        try {
            length = ChaChaPoly.open(keys.receiveKey(), counter, ciphertext, decrypted, null);
        } catch (AEADBadTagException e) {
            device.drop(DropReason.DECRYPTION_FAILED, "", sender);
            return;
        }
        if (!keys.replayWindow().accept(counter)) {
            device.drop(DropReason.REPLAYED, "counter " + counter, sender);
            return;
        }
        peer.path.roam(sender);
        peer.counters.rxBytes.addAndGet(datagram.remaining());
        peer.clocks.anyReceived = now;
        // The plaintext goes out before anything below can send: a relay path that delivers synchronously could
        // otherwise bring this thread back here with the same buffer while it still holds this packet.
        if (length > 0) {
            decrypted.flip();
            deliverInbound(peer, decrypted, sender, now, coalesce);
        }
        if (keys == peer.keypairs.next) {
            device.handshakes().confirm(peer, keys);
            device.outbound().flushStagedIfAny(peer);
        }
        device.timers().afterReceiving(peer, now);
    }

    /** Checks the decrypted packet's source against the peer's allowed IPs and writes it to the interface. */
    private void deliverInbound(Peer peer, ByteBuffer packet, InetSocketAddress sender, long now, boolean coalesce) {
        int version = (packet.get(0) & 0xFF) >>> 4;
        int totalLength;
        Peer owner;
        if (version == 4 && packet.remaining() >= 20) {
            totalLength = packet.getShort(2) & 0xFFFF;
            owner = allowedIps.lookup(packet, 12, 4);
        } else if (version == 6 && packet.remaining() >= 40) {
            totalLength = 40 + (packet.getShort(4) & 0xFFFF);
            owner = allowedIps.lookup(packet, 8, 16);
        } else {
            device.drop(DropReason.NOT_IP, "decrypted version " + version, sender);
            return;
        }
        if (totalLength > packet.remaining() || totalLength < 20) {
            device.drop(DropReason.NOT_IP, "bad length " + totalLength, sender);
            return;
        }
        if (owner != peer) {
            device.drop(DropReason.NOT_ALLOWED_SOURCE, "", sender);
            return;
        }
        packet.limit(totalLength);
        peer.clocks.dataReceived = now;
        PacketFilter filter = device.packetFilter();
        if (filter != null) {
            Verdict verdict = filter.inbound(packet, INBOUND_HEADERS.get());
            if (!verdict.accepted()) {
                device.drop(DropReason.FILTERED, verdict.name(), sender);
                return;
            }
        }
        if (coalesce) {
            coalescer.get().add(packet);
            return;
        }
        try {
            tun.write(packet);
        } catch (IOException e) {
            log.debug("writing to {} failed: {}", tun.name(), e.getMessage());
        }
    }
}
