package io.meshwork.node.agent;

import io.meshwork.node.dataplane.Peer;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.relay.HomeRelays;
import io.meshwork.node.relay.PinnedCertificateTrust;
import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayClient;
import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayCredential;
import io.meshwork.node.relay.RelayDatagramRouter;
import io.meshwork.node.relay.RelayListener;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
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
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the agent opens a relay connection (docs/architecture.md, "Relay connection"): to a relay control handed out,
 * at the addresses control gave, over TLS when control pinned its certificate, authenticated with this device's key
 * and certificate, on the node's socket through the {@link RelayDatagramRouter} (several relays share it). Which
 * relays the node connects to is {@link HomeRelays}' choice; WireGuard datagrams any of them delivers go to the
 * device, disco messages to the probe router ({@link DeviceListener}).
 */
final class RelayConnection {

    private static final Logger log = LoggerFactory.getLogger(RelayConnection.class);
    /** The port of a relay address that names none: the relay's own default for UDP and TCP. */
    static final int DEFAULT_PORT = 3340;

    private RelayConnection() {}

    /**
     * Opens relay clients for {@link HomeRelays}: with the certificate {@code identity} holds at the time. A relay
     * that cannot be used (a malformed address or pin, a bad certificate) is logged and gets no client.
     */
    static HomeRelays.Connector connector(Supplier<NodeIdentity> identity, RelayDatagramRouter datagrams) {
        return (info, listener, tcpFirst) -> {
            RelayAddress address;
            RelayCredential credential;
            try {
                address = address(info);
                credential = credential(identity.get());
            } catch (IllegalArgumentException e) {
                log.warn("cannot use relay {}: {}", info.name(), e.getMessage());
                return Optional.empty();
            } catch (Exception e) {
                log.warn("cannot use relay {}: {}", info.name(), e.toString());
                return Optional.empty();
            }
            // A node that reached its relays only over TCP most likely has no UDP: it goes to TCP at once.
            return Optional.of(RelayClient.start(address, credential,
                    address.udp().map(datagrams::forRelay).orElse(null), listener,
                    RelayClientConfig.defaults().withTcpFirst(tcpFirst)));
        };
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
