package io.meshwork.node.dataplane;

import io.meshwork.protocol.net.Prefix;
import io.meshwork.node.filter.PacketFilter;
import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.wireguard.CookieChecker;
import io.meshwork.protocol.wireguard.Handshake;
import io.meshwork.protocol.wireguard.Key;
import io.meshwork.protocol.wireguard.LocalIdentity;
import io.meshwork.protocol.wireguard.Timers;
import io.meshwork.protocol.wireguard.WireGuardException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A userspace WireGuard interface: packets read from the TUN device are routed by allowed IPs to a peer,
 * encrypted and sent on the UDP transport; datagrams from the transport are authenticated, decrypted and written
 * to the TUN device. Handshakes, cookies, timers and roaming follow the WireGuard whitepaper.
 *
 * <p>This class is the facade: configuration (keys, listen port, peers, allowed IPs, packet filter, relay path),
 * the shared state and the lifecycle. The work is split by concern:
 * <ul>
 *   <li>{@link OutboundPipeline}: TUN device to peers (batched reads, routing, staging, sealing, sendmmsg hand-off);
 *   <li>{@link InboundPipeline}: socket and relay to the TUN device (demultiplexing, decryption, source check,
 *       filter);
 *   <li>{@link Handshakes}: initiations, responses, cookies and session rotation, with the {@link IndexTable};
 *   <li>{@link DeviceTimers}: the timer rules (rekey, keepalive, retries, erasing keys);
 *   <li>{@link Peer}: one peer's state, grouped by concern; {@link AllowedIps}: the routing trie.
 * </ul>
 *
 * <p>Threads: one reads the TUN device and encrypts; one runs the timers every
 * {@value DeviceTimers#TIMER_TICK_MILLIS} ms. Datagrams are decrypted and handshakes handled on whichever thread
 * delivers them, and there are several at once: the transport's I/O thread for the socket, and the relay client's
 * threads for {@link #receiveFromRelay} (the TCP relay connection's reader, for one). So nothing on the receive path
 * is scratch owned by the device: each receiving thread decrypts into a buffer of its own, and the state receivers
 * share is concurrent or locked. Configuration calls may come from any thread.
 */
public final class WireGuardDevice implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WireGuardDevice.class);
    /** Handshake messages per second above which mac2 cookies are demanded (wireguard-go: queue 1/8 full). */
    static final int UNDER_LOAD_HANDSHAKES_PER_SECOND = 128;
    /** The largest IP packet the device carries. */
    static final int MAX_PACKET = 65535;

    /** Carries WireGuard datagrams to a peer through a relay, addressed by the peer's public key. */
    @FunctionalInterface
    public interface RelayPath {
        /** Returns false when the datagram could not be handed to the relay (not connected). */
        boolean send(Key peer, ByteBuffer datagram);
    }

    /** The sender address datagrams that came through the relay are processed with; never a real endpoint. */
    static final InetSocketAddress RELAY_SOURCE = InetSocketAddress.createUnresolved("relay", 1);

    private final TunDevice tun;
    private final IntFunction<PacketTransport> transportFactory;
    private final Map<Key, Peer> peers = new ConcurrentHashMap<>();
    private final IndexTable indices = new IndexTable();
    private final AllowedIps<Peer> allowedIps = new AllowedIps<>();
    private final Handshakes handshakes = new Handshakes(this, indices);
    private final OutboundPipeline outbound;
    private final InboundPipeline inbound;
    private final DeviceTimers timers;
    private final Map<DatagramKind, PacketTransport.PacketHandler> sharedHandlers = new EnumMap<>(DatagramKind.class);
    private final Map<DropReason, AtomicLong> drops = new EnumMap<>(DropReason.class);

    private volatile LocalIdentity identity;
    private volatile RelayPath relayPath;
    private volatile PacketFilter packetFilter;
    private volatile CookieChecker cookieChecker;
    private volatile PacketTransport transport;
    private volatile int listenPort;
    private volatile boolean closed;
    private final Thread tunReader;
    private final Thread timerThread;

    /**
     * @param tun              the interface to carry packets for
     * @param transportFactory binds a UDP transport on a port (0 for any free port); called again when the listen
     *                         port changes
     */
    public WireGuardDevice(TunDevice tun, IntFunction<PacketTransport> transportFactory) {
        this.tun = tun;
        this.transportFactory = transportFactory;
        this.outbound = new OutboundPipeline(this, tun, allowedIps);
        this.inbound = new InboundPipeline(this, tun, allowedIps, indices);
        this.timers = new DeviceTimers(this, indices);
        for (DropReason reason : DropReason.values()) {
            drops.put(reason, new AtomicLong());
        }
        this.transport = bindTransport(0);
        this.tunReader = new Thread(outbound::run, "wg-tun-" + tun.name());
        this.timerThread = new Thread(timers::run, "wg-timers-" + tun.name());
        tunReader.setDaemon(true);
        timerThread.setDaemon(true);
        tunReader.start();
        timerThread.start();
    }

    // ---- configuration ----------------------------------------------------------------------------------

    public String name() {
        return tun.name();
    }

    public synchronized void setPrivateKey(Key privateKey) {
        LocalIdentity next = privateKey == null ? null : new LocalIdentity(privateKey);
        if (next != null && identity != null && next.publicKey().equals(identity.publicKey())) {
            return;
        }
        identity = next;
        cookieChecker = next == null ? null : new CookieChecker(next);
        List<Key> existing = new ArrayList<>(peers.keySet());
        for (Key key : existing) {
            Peer old = peers.get(key);
            removePeer(key);
            if (next != null && !key.equals(next.publicKey())) {
                Peer renewed = addPeer(key);
                if (renewed != null) {
                    renewed.path.endpoint = old.path.endpoint;
                    renewed.clocks.persistentKeepaliveNanos = old.clocks.persistentKeepaliveNanos;
                    synchronized (renewed) {
                        renewed.handshake.setPresharedKey(old.presharedKey());
                    }
                    for (Prefix prefix : allowedIps.prefixesOf(old)) {
                        allowedIps.insert(prefix, renewed);
                    }
                }
            }
        }
    }

    public Key privateKey() {
        LocalIdentity local = identity;
        return local == null ? null : local.privateKey();
    }

    public Key publicKey() {
        LocalIdentity local = identity;
        return local == null ? null : local.publicKey();
    }

    public int listenPort() {
        return listenPort;
    }

    /** Rebinds the UDP socket to {@code port} (0: any free port). */
    public synchronized void setListenPort(int port) {
        if (port != 0 && port == listenPort) {
            return;
        }
        PacketTransport old = transport;
        transport = bindTransport(port);
        old.close();
    }

    public PacketTransport transport() {
        return transport;
    }

    /**
     * Routes datagrams of another kind (STUN, probes) arriving on the device's socket to {@code handler}; the
     * registration survives listen-port changes.
     */
    public synchronized void registerShared(DatagramKind kind, PacketTransport.PacketHandler handler) {
        if (kind == DatagramKind.WIREGUARD) {
            throw new IllegalArgumentException("the device handles WireGuard datagrams itself");
        }
        sharedHandlers.put(kind, handler);
        transport.register(kind, handler);
    }

    private PacketTransport bindTransport(int port) {
        PacketTransport bound = transportFactory.apply(port);
        // Received TCP segments are coalesced for the TUN device until the transport's batch ends (GRO), when
        // the transport says when that is and the device takes coalesced writes.
        boolean coalesce = bound.reportsBatchEnds() && tun.offloads();
        bound.register(DatagramKind.WIREGUARD, new PacketTransport.PacketHandler() {
            @Override
            public void onDatagram(ByteBuffer datagram, InetSocketAddress sender) {
                inbound.onDatagram(datagram, sender, coalesce);
            }

            @Override
            public void onBatchEnd() {
                inbound.flushCoalesced();
            }
        });
        sharedHandlers.forEach(bound::register);
        listenPort = bound.localAddress().getPort();
        return bound;
    }

    /** Adds a peer, or returns the existing one. Null when the key is our own or a low-order point. */
    public synchronized Peer addPeer(Key publicKey) {
        Peer existing = peers.get(publicKey);
        if (existing != null) {
            return existing;
        }
        LocalIdentity local = identity;
        if (local == null) {
            throw new IllegalStateException("set a private key before adding peers");
        }
        if (publicKey.equals(local.publicKey())) {
            return null;
        }
        try {
            Peer peer = new Peer(publicKey, new Handshake(local, publicKey));
            peers.put(publicKey, peer);
            return peer;
        } catch (WireGuardException e) {
            log.debug("refusing peer {}: {}", publicKey, e.getMessage());
            return null;
        }
    }

    /** Removes a peer, its routes and its session keys. */
    public synchronized void removePeer(Key publicKey) {
        Peer peer = peers.remove(publicKey);
        if (peer == null) {
            return;
        }
        allowedIps.removeAll(peer);
        indices.removePeer(peer);
        synchronized (peer) {
            peer.keypairs.current = null;
            peer.keypairs.previous = null;
            peer.keypairs.next = null;
            peer.handshake.clear();
            peer.staged.clear();
        }
    }

    public synchronized void removeAllPeers() {
        for (Key key : new ArrayList<>(peers.keySet())) {
            removePeer(key);
        }
    }

    public Peer peer(Key publicKey) {
        return peers.get(publicKey);
    }

    public List<Peer> peers() {
        return List.copyOf(peers.values());
    }

    public void setPresharedKey(Peer peer, Key presharedKey) {
        synchronized (peer) {
            peer.handshake.setPresharedKey(presharedKey);
        }
    }

    public void setEndpoint(Peer peer, InetSocketAddress endpoint) {
        peer.path.endpoint = endpoint;
    }

    /**
     * Enforces a security policy on decrypted inbound packets (refused ones are dropped as
     * {@link DropReason#FILTERED}); outbound packets record their flows in it so replies pass. Null: no filtering.
     */
    public void setPacketFilter(PacketFilter filter) {
        this.packetFilter = filter;
    }

    public PacketFilter packetFilter() {
        return packetFilter;
    }

    /** Where datagrams for peers on the relay path go. */
    public void setRelayPath(RelayPath relayPath) {
        this.relayPath = relayPath;
    }

    /** Sends this peer's datagrams through the relay ({@code true}) or to its endpoint. */
    public void useRelay(Peer peer, boolean viaRelay) {
        peer.path.viaRelay = viaRelay;
    }

    /**
     * Pins the peer's path: with {@code pinned}, packets from the peer no longer move it (WireGuard roaming
     * is off) and only {@link #setEndpoint} and {@link #useRelay} do. The node's tunnel logic pins every peer it
     * manages, since it measures paths and decides; a plain WireGuard interface roams as WireGuard does.
     */
    public void pinPath(Peer peer, boolean pinned) {
        peer.path.pinned = pinned;
    }

    /** A datagram a relay delivered from {@code source}: handled as if it came from the socket. */
    public void receiveFromRelay(Key source, ByteBuffer datagram) {
        inbound.onDatagram(datagram, RELAY_SOURCE);
    }

    /**
     * Sets the persistent keepalive interval; turning it on sends a keepalive at once, which starts a handshake
     * when there is no session (as wireguard-go does).
     */
    public void setPersistentKeepalive(Peer peer, int seconds) {
        boolean turnedOn = peer.clocks.persistentKeepaliveNanos == 0 && seconds > 0;
        peer.clocks.persistentKeepaliveNanos = seconds * Timers.SECOND;
        if (turnedOn && peer.path.endpoint != null) {
            keepaliveOrHandshake(peer);
        }
    }

    /**
     * Starts a handshake with {@code peer} now unless one is in flight or a session exists: both sides of a NAT
     * traversal call this so their simultaneous initiations open each other's NAT. An attempt whose initiation
     * found no path (the relay was not connected yet) does not count as in flight: its initiation goes again now,
     * not after the retry timeout (WireGuard §6.4, 5 s), so a path that just became usable carries a handshake at
     * once. Likewise a session whose confirming message found no path ({@link OutboundPipeline#flushStaged}) gets a
     * keepalive now, which confirms it to the peer.
     */
    public void initiateHandshake(Peer peer) {
        if (!peer.hasSession()) {
            handshakes.initiateIfIdleOrUndelivered(peer, System.nanoTime());
        } else if (peer.clocks.confirmationUndelivered) {
            outbound.sendKeepalive(peer);
        }
    }

    private void keepaliveOrHandshake(Peer peer) {
        if (peer.hasSession()) {
            outbound.sendKeepalive(peer);
        } else {
            handshakes.initiateIfIdle(peer, System.nanoTime());
        }
    }

    public void addAllowedIp(Peer peer, Prefix prefix) {
        allowedIps.insert(prefix, peer);
    }

    public void clearAllowedIps(Peer peer) {
        allowedIps.removeAll(peer);
    }

    public List<Prefix> allowedIps(Peer peer) {
        return allowedIps.prefixesOf(peer);
    }

    public long dropped(DropReason reason) {
        return drops.get(reason).get();
    }

    // ---- for the pipelines, the handshakes and the timers -----------------------------------------------

    /** Null until a private key is set. */
    LocalIdentity identity() {
        return identity;
    }

    /** Null until a private key is set. */
    CookieChecker cookieChecker() {
        return cookieChecker;
    }

    /** True while a peer with this key is configured (not necessarily the same Peer object). */
    boolean hasPeer(Key publicKey) {
        return peers.containsKey(publicKey);
    }

    boolean closed() {
        return closed;
    }

    /** The peers as they are now, without a copy (the map is concurrent). */
    Collection<Peer> livePeers() {
        return peers.values();
    }

    DeviceTimers timers() {
        return timers;
    }

    Handshakes handshakes() {
        return handshakes;
    }

    OutboundPipeline outbound() {
        return outbound;
    }

    /** True when the peer has somewhere to send to: an endpoint, or the relay when it is on the relay path. */
    boolean hasPath(Peer peer) {
        return peer.path.endpoint != null || (peer.path.viaRelay && relayPath != null);
    }

    /** Sends to the peer by its current path; false when there is none. */
    boolean deliver(Peer peer, ByteBuffer datagram, boolean batched) {
        RelayPath relay = relayPath;
        if (peer.path.viaRelay && relay != null) {
            return relay.send(peer.publicKey(), datagram);
        }
        InetSocketAddress endpoint = peer.path.endpoint;
        if (endpoint == null) {
            return false;
        }
        if (batched) {
            transport.sendLater(datagram, endpoint);
        } else {
            transport.send(datagram, endpoint);
        }
        return true;
    }

    /**
     * Sends datagrams of {@code segmentSize} bytes laid back to back (the last may be shorter) to the peer by its
     * current path, batched: one GSO send on the socket where it has that, one by one through the relay.
     */
    boolean deliverSegments(Peer peer, ByteBuffer datagrams, int segmentSize) {
        RelayPath relay = relayPath;
        if (peer.path.viaRelay && relay != null) {
            ByteBuffer each = datagrams.duplicate();
            int end = datagrams.limit();
            for (int at = datagrams.position(); at < end; at += segmentSize) {
                each.limit(Math.min(end, at + segmentSize)).position(at);
                if (!relay.send(peer.publicKey(), each)) {
                    return false;
                }
            }
            return true;
        }
        InetSocketAddress endpoint = peer.path.endpoint;
        if (endpoint == null) {
            return false;
        }
        transport.sendLaterSegments(datagrams, segmentSize, endpoint);
        return true;
    }

    void drop(DropReason reason, String detail, Object from) {
        drops.get(reason).incrementAndGet();
        if (log.isDebugEnabled()) {
            log.debug("dropped packet reason={} from={} {}", reason, from, detail);
        }
    }

    // ---- lifecycle --------------------------------------------------------------------------------------

    @Override
    public void close() {
        closed = true;
        tunReader.interrupt();
        timerThread.interrupt();
        try {
            tunReader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        transport.close();
        tun.close();
    }
}
