package io.meshwork.node.agent;

import io.meshwork.node.dataplane.Peer;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.relay.PinnedCertificateTrust;
import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayClient;
import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayCredential;
import io.meshwork.node.relay.RelayListener;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.protocol.wireguard.Key;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's connection to its relay (docs/architecture.md, "Relay connection"): the first relay control handed
 * out, at the addresses control gave, over TLS when control pinned its certificate, authenticated with this
 * device's key and certificate. WireGuard datagrams from the relay go to the device, disco messages to the probe
 * router, and the device sends relayed peers' datagrams through it. When control's live relay list no longer lists
 * the relay in use as healthy and lists another, the node moves to the first listed healthy one
 * ({@link #replacement}); otherwise it keeps its relay.
 */
final class RelayConnection implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RelayConnection.class);
    /** The port of a relay address that names none: the relay's own default for UDP and TCP. */
    static final int DEFAULT_PORT = 3340;

    private final RelayInfo info;
    private final RelayClient client;
    private volatile boolean closed;

    private RelayConnection(RelayInfo info, RelayClient client) {
        this.info = info;
        this.client = client;
    }

    /**
     * Connects to the first relay in the registration and makes it the device's relay path. Empty when control
     * handed out none, or when that one cannot be used (a malformed address or pin, a bad certificate): that is
     * logged, and peers then go without a relay.
     *
     * @param disco where coordination messages that came through the relay go (the probe router)
     */
    static Optional<RelayConnection> start(NodeIdentity identity, WireGuardDevice device,
            Consumer<ByteBuffer> disco) {
        List<RelayInfo> relays = identity.registration().relays();
        if (relays == null || relays.isEmpty()) {
            return Optional.empty();
        }
        return start(relays.get(0), identity, device, disco, null);
    }

    /**
     * Connects to {@code info} and makes it the device's relay path, in place of {@code replacing} (null: none),
     * which is closed first (both would take the socket's relay datagrams). Empty when {@code info} cannot be used
     * (a malformed address or pin, a bad certificate): that is logged, and {@code replacing} is left as it was.
     */
    static Optional<RelayConnection> start(RelayInfo info, NodeIdentity identity, WireGuardDevice device,
            Consumer<ByteBuffer> disco, RelayConnection replacing) {
        // A node that reached its previous relay only over TCP most likely has no UDP: it goes to TCP at once.
        boolean tcpFirst = replacing != null
                && replacing.client().lastTransport().equals(Optional.of(RelayFrame.Transport.TCP));
        return start(info, identity, device, disco, replacing, RelayClientConfig.defaults().withTcpFirst(tcpFirst));
    }

    private static Optional<RelayConnection> start(RelayInfo info, NodeIdentity identity, WireGuardDevice device,
            Consumer<ByteBuffer> disco, RelayConnection replacing, RelayClientConfig config) {
        RelayAddress address;
        RelayCredential credential;
        try {
            address = address(info);
            credential = credential(identity);
        } catch (IllegalArgumentException e) {
            log.warn("cannot use relay {}: {}", info.name(), e.getMessage());
            return Optional.empty();
        } catch (Exception e) {
            log.warn("cannot use relay {}: {}", info.name(), e.toString());
            return Optional.empty();
        }
        if (replacing != null) {
            replacing.close();
        }
        try {
            RelayClient client = RelayClient.start(address, credential, device.transport(),
                    new DeviceListener(device, disco), config);
            device.setRelayPath((peer, datagram) -> client.sendPacket(RelayKey.of(peer.toBytes()), datagram));
            return Optional.of(new RelayConnection(info, client));
        } catch (RuntimeException e) {
            log.warn("cannot use relay {}: {}", info.name(), e.toString());
        }
        return Optional.empty();
    }

    /**
     * The relay to move to when control lists {@code listed}, or empty to keep {@code current} (null: no relay in
     * use). It is the first listed relay not known to be unhealthy, when the current one is not listed as such
     * (gone, unhealthy, or listed at other addresses or with another pin) or there is none; the node keeps its
     * relay while it is listed, and when no other is.
     */
    static Optional<RelayInfo> replacement(RelayInfo current, List<RelayInfo> listed) {
        List<RelayInfo> usable = listed.stream().filter(RelayConnection::usable).toList();
        if (usable.isEmpty()) {
            return Optional.empty();
        }
        if (current != null && usable.stream().anyMatch(relay -> sameRelay(relay, current))) {
            return Optional.empty();
        }
        return Optional.of(usable.get(0));
    }

    /**
     * The relay to move to when {@code failed} stopped answering ({@link io.meshwork.node.relay.RelayFailover}):
     * the first listed relay not known to be unhealthy other than it, or empty when there is none. Every node of
     * the organization has the same list in the same order, so the clients of a failed relay all move to the same
     * one and their relayed pairs meet there again.
     */
    static Optional<RelayInfo> failover(RelayInfo failed, List<RelayInfo> listed) {
        return listed.stream().filter(RelayConnection::usable).filter(relay -> !sameRelay(relay, failed))
                .findFirst();
    }

    /**
     * How long a node that failed over stays away from the first listed relay before going back to it: the relay
     * every node starts with, so that nodes that failed over and nodes that (re)started since meet on one relay again
     * once it is back. Control withdraws a dead relay after 3 missed heartbeats (30 s by default), well within this.
     */
    static final Duration RETURN_AFTER = Duration.ofSeconds(60);

    /**
     * The relay to go back to after a failover {@code awayFor} ago: the first usable listed relay, when the node is
     * on another one and has been for {@link #RETURN_AFTER}; else empty.
     */
    static Optional<RelayInfo> returnTo(RelayInfo current, List<RelayInfo> listed, Duration awayFor) {
        if (awayFor.compareTo(RETURN_AFTER) < 0) {
            return Optional.empty();
        }
        return listed.stream().filter(RelayConnection::usable).findFirst()
                .filter(first -> !sameRelay(first, current));
    }

    /** Whether the relay delivered nothing for the failover time while the node waited for it, or was down. */
    boolean failed() {
        return io.meshwork.node.relay.RelayFailover.shouldLeave(client.status().connected(), client.silence(),
                client.awaitingRelay());
    }

    /** Not known to be unhealthy: control lists only healthy enrolled relays, and does not follow configured ones. */
    static boolean usable(RelayInfo relay) {
        return relay != null && relay.name() != null && !Boolean.FALSE.equals(relay.healthy());
    }

    /** The same relay at the same addresses, trusted the same way (region and health aside). */
    private static boolean sameRelay(RelayInfo a, RelayInfo b) {
        return Objects.equals(a.name(), b.name()) && Objects.equals(a.udp(), b.udp())
                && Objects.equals(a.tcp(), b.tcp()) && Objects.equals(a.tlsSha256(), b.tlsSha256());
    }

    /**
     * Where the relay listens, as control described it: its UDP and TCP addresses ({@value #DEFAULT_PORT} when
     * one names no port), TLS on TCP trusting exactly the pinned certificate when control pinned one.
     *
     * @throws InvalidAddressException naming the transport and the text when an address is malformed, or when
     *                                 there is none
     * @throws IllegalArgumentException when the pin is not a SHA-256 in hex
     */
    static RelayAddress address(RelayInfo info) throws GeneralSecurityException {
        InetSocketAddress udp = info.udp() == null ? null : resolve("UDP", info.udp());
        InetSocketAddress tcp = info.tcp() == null ? null : resolve("TCP", info.tcp());
        if (udp == null && tcp == null) {
            throw new InvalidAddressException("control gave it neither a UDP nor a TCP address");
        }
        RelayAddress plain = udp != null && tcp != null ? RelayAddress.of(udp, tcp)
                : udp != null ? RelayAddress.udpOnly(udp) : RelayAddress.tcpOnly(tcp);
        // A pin from control means the relay's TCP listener speaks TLS with exactly that certificate.
        return info.tlsSha256() == null ? plain
                : plain.withTls(PinnedCertificateTrust.socketFactory(info.tlsSha256()));
    }

    private static InetSocketAddress resolve(String transport, String address) {
        try {
            return HostPort.parse(address, DEFAULT_PORT).resolve();
        } catch (InvalidAddressException e) {
            throw new InvalidAddressException(transport + " address from control: " + e.getMessage());
        }
    }

    /** What the node authenticates to the relay with: its WireGuard key pair and the certificate control issued. */
    static RelayCredential credential(NodeIdentity identity) throws CertificateException {
        byte[] certificate = CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(
                identity.registration().certificate().getBytes(StandardCharsets.US_ASCII))).getEncoded();
        return new RelayCredential(RelayKeyPair.fromPrivateKey(Key.fromBase64(identity.privateKey()).toBytes()),
                certificate);
    }

    /**
     * Authenticates with the certificate {@code identity} has now (a renewed one for the same key): the client
     * starts its handshake over with it. Logged and left as it is when the certificate cannot be read.
     */
    void renew(NodeIdentity identity) {
        try {
            client.renewCredential(credential(identity));
        } catch (CertificateException | RuntimeException e) {
            log.warn("cannot use the renewed certificate with relay {}: {}", info.name(), e.toString());
        }
    }

    /** The relay's name as control gave it. */
    String name() {
        return info.name();
    }

    /** The relay as control described it when the node connected. */
    RelayInfo info() {
        return info;
    }

    RelayClient client() {
        return client;
    }

    /** How this node reaches the relay now, "udp" or "tcp" ("udp" while not connected). */
    String transport() {
        return client.status().transport().map(t -> t.name().toLowerCase(Locale.ROOT)).orElse("udp");
    }

    @Override
    public void close() {
        closed = true;
        client.close();
    }

    /** Whether it was closed (replaced, or the agent stopped). */
    boolean closed() {
        return closed;
    }

    /** What the relay delivers, handed to the device and the probe router. */
    static final class DeviceListener implements RelayListener {

        private final WireGuardDevice device;
        private final Consumer<ByteBuffer> disco;

        DeviceListener(WireGuardDevice device, Consumer<ByteBuffer> disco) {
            this.device = device;
            this.disco = disco;
        }

        @Override
        public void onPacket(RelayKey source, ByteBuffer payload) {
            device.receiveFromRelay(Key.of(source.bytes()), payload);
        }

        @Override
        public void onDisco(RelayKey source, ByteBuffer payload) {
            disco.accept(payload);
        }

        @Override
        public void onStatus(RelayStatus status) {
            if (status.connected()) {
                // Handshakes sent before the relay answered were lost: send them again now.
                for (Peer peer : device.peers()) {
                    if (peer.viaRelay() && !peer.hasSession()) {
                        device.initiateHandshake(peer);
                    }
                }
            }
        }
    }
}
