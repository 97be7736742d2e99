package io.meshwork.node.uapi;

import io.meshwork.protocol.net.Prefix;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.node.dataplane.AllowedIps;
import io.meshwork.node.dataplane.Peer;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.protocol.wireguard.Key;
import java.util.List;

/**
 * The WireGuard cross-platform configuration protocol ("UAPI", wireguard.com/xplatform): {@code get=1} dumps
 * the device as {@code key=value} lines, {@code set=1} applies such lines. Both end with {@code errno=N} and a
 * blank line. Pure text in, text out, so it is testable without sockets.
 */
public final class UapiProtocol {

    /** errno values the protocol reports, as wireguard-go does. */
    static final int EINVAL = 22;
    static final int EPROTO = 71;

    private UapiProtocol() {}

    /** The answer to {@code get=1}. */
    public static String get(WireGuardDevice device) {
        StringBuilder out = new StringBuilder();
        Key privateKey = device.privateKey();
        if (privateKey != null) {
            out.append("private_key=").append(privateKey.toHex()).append('\n');
        }
        out.append("listen_port=").append(device.listenPort()).append('\n');
        for (Peer peer : device.peers()) {
            out.append("public_key=").append(peer.publicKey().toHex()).append('\n');
            out.append("preshared_key=").append(peer.presharedKey().toHex()).append('\n');
            out.append("protocol_version=1\n");
            if (peer.endpoint() != null) {
                out.append("endpoint=").append(IpLiteral.format(peer.endpoint())).append('\n');
            }
            long millis = peer.lastHandshakeEpochMillis();
            out.append("last_handshake_time_sec=").append(millis / 1000).append('\n');
            out.append("last_handshake_time_nsec=").append((millis % 1000) * 1_000_000).append('\n');
            out.append("tx_bytes=").append(peer.txBytes()).append('\n');
            out.append("rx_bytes=").append(peer.rxBytes()).append('\n');
            out.append("persistent_keepalive_interval=").append(peer.persistentKeepaliveSeconds()).append('\n');
            for (Prefix prefix : device.allowedIps(peer)) {
                out.append("allowed_ip=").append(prefix).append('\n');
            }
        }
        return out.append("errno=0\n\n").toString();
    }

    /**
     * Applies the lines of a {@code set=1} request (without the {@code set=1} line and the blank line) and
     * returns the errno line and blank line to answer with. Lines before an error stay applied, as in
     * wireguard-go.
     */
    public static String set(WireGuardDevice device, List<String> lines) {
        try {
            apply(device, lines);
            return "errno=0\n\n";
        } catch (IllegalArgumentException e) {
            return "errno=" + EINVAL + "\n\n";
        }
    }

    private static void apply(WireGuardDevice device, List<String> lines) {
        Peer peer = null;
        boolean peerIsNew = false;
        boolean skipPeer = false;
        for (String line : lines) {
            int equals = line.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("not key=value: " + line);
            }
            String key = line.substring(0, equals);
            String value = line.substring(equals + 1);
            switch (key) {
                case "private_key" -> {
                    Key privateKey = Key.fromHex(value);
                    device.setPrivateKey(privateKey.isZero() ? null : privateKey);
                }
                case "listen_port" -> device.setListenPort(port(value));
                case "fwmark" -> number(value);
                case "replace_peers" -> {
                    requireTrue(value);
                    device.removeAllPeers();
                }
                case "public_key" -> {
                    Key publicKey = Key.fromHex(value);
                    Peer existing = device.peer(publicKey);
                    skipPeer = false;
                    peerIsNew = existing == null;
                    peer = existing != null ? existing : device.addPeer(publicKey);
                    if (peer == null) {
                        // Our own key or an invalid point: wireguard-go ignores such a peer's lines.
                        skipPeer = true;
                    }
                }
                case "update_only" -> {
                    requireTrue(value);
                    if (peer != null && peerIsNew) {
                        device.removePeer(peer.publicKey());
                        skipPeer = true;
                    }
                }
                case "remove" -> {
                    requireTrue(value);
                    if (peer != null && !skipPeer) {
                        device.removePeer(peer.publicKey());
                        skipPeer = true;
                    }
                }
                case "preshared_key" -> {
                    Key presharedKey = Key.fromHex(value);
                    if (peerLine(peer, key, skipPeer)) {
                        device.setPresharedKey(peer, presharedKey);
                    }
                }
                case "endpoint" -> {
                    var endpoint = HostPort.parseEndpoint(value);
                    if (peerLine(peer, key, skipPeer)) {
                        device.setEndpoint(peer, endpoint);
                    }
                }
                case "persistent_keepalive_interval" -> {
                    int seconds = (int) number(value);
                    if (seconds > 65535) {
                        throw new IllegalArgumentException("keepalive interval too large");
                    }
                    if (peerLine(peer, key, skipPeer)) {
                        device.setPersistentKeepalive(peer, seconds);
                    }
                }
                case "replace_allowed_ips" -> {
                    requireTrue(value);
                    if (peerLine(peer, key, skipPeer)) {
                        device.clearAllowedIps(peer);
                    }
                }
                case "allowed_ip" -> {
                    Prefix prefix = Prefix.parseAddressOrPrefix(value);
                    if (peerLine(peer, key, skipPeer)) {
                        device.addAllowedIp(peer, prefix);
                    }
                }
                case "protocol_version" -> {
                    if (!value.equals("1")) {
                        throw new IllegalArgumentException("unsupported protocol version " + value);
                    }
                }
                default -> throw new IllegalArgumentException("unknown key " + key);
            }
        }
    }

    private static boolean peerLine(Peer peer, String key, boolean skipPeer) {
        if (peer == null && !skipPeer) {
            throw new IllegalArgumentException(key + " before any public_key");
        }
        return !skipPeer;
    }

    private static void requireTrue(String value) {
        if (!value.equals("true")) {
            throw new IllegalArgumentException("expected true, got " + value);
        }
    }

    private static int port(String value) {
        long port = number(value);
        if (port > 65535) {
            throw new IllegalArgumentException("port out of range: " + value);
        }
        return (int) port;
    }

    private static long number(String value) {
        try {
            long number = Long.parseLong(value);
            if (number < 0) {
                throw new IllegalArgumentException("negative: " + value);
            }
            return number;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: " + value);
        }
    }
}
