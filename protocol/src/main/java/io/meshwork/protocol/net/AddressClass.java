package io.meshwork.protocol.net;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;

/**
 * What kind of address an endpoint has, for deciding whether a peer may be sent to it. A device that reports
 * {@code 127.0.0.1}, {@code 169.254.169.254} or a multicast group as its endpoint would have every peer probe and
 * handshake there (reflection onto the peers' own hosts or networks), so such endpoints are refused wherever they
 * come from; a private address is a fine endpoint only as a device's own LAN address (source {@code local}).
 */
public enum AddressClass {
    /** 0.0.0.0, :: */
    UNSPECIFIED,
    /** 127.0.0.0/8, ::1 */
    LOOPBACK,
    /** 224.0.0.0/4, 255.255.255.255, ff00::/8 */
    MULTICAST,
    /** 169.254.0.0/16 (cloud metadata services live here), fe80::/10 */
    LINK_LOCAL,
    /** RFC 1918 (10/8, 172.16/12, 192.168/16), RFC 6598 shared space (100.64/10), RFC 4193 ULA (fc00::/7) */
    PRIVATE,
    /** Everything else: reachable across the internet, as far as an address can tell. */
    PUBLIC;

    private static final List<Prefix> PRIVATE_PREFIXES = List.of(Prefix.parse("10.0.0.0/8"),
            Prefix.parse("172.16.0.0/12"), Prefix.parse("192.168.0.0/16"), Prefix.parse("100.64.0.0/10"),
            Prefix.parse("fc00::/7"));

    public static AddressClass of(InetAddress address) {
        if (address.isAnyLocalAddress()) {
            return UNSPECIFIED;
        }
        if (address.isLoopbackAddress()) {
            return LOOPBACK;
        }
        byte[] bytes = address.getAddress();
        if (address.isMulticastAddress() || (bytes.length == 4 && (bytes[0] & 0xFF) == 255 && (bytes[1] & 0xFF) == 255
                && (bytes[2] & 0xFF) == 255 && (bytes[3] & 0xFF) == 255)) {
            return MULTICAST;
        }
        if (address.isLinkLocalAddress()) {
            return LINK_LOCAL;
        }
        for (Prefix prefix : PRIVATE_PREFIXES) {
            if (prefix.contains(address)) {
                return PRIVATE;
            }
        }
        return PUBLIC;
    }

    /**
     * Whether a peer may be sent to an endpoint of this class that was reported with {@code source}: never to the
     * unspecified, loopback, multicast or link-local kinds; to a private address only when it is the device's own
     * LAN address.
     */
    public boolean usableAs(String source) {
        return switch (this) {
            case PUBLIC -> true;
            case PRIVATE -> "local".equals(source);
            default -> false;
        };
    }

    /**
     * Why a peer may not be sent to the endpoint {@code address} reported with {@code source}, or null when it may:
     * it must be {@code ip:port} ({@link HostPort#parseEndpoint}) of a class {@link #usableAs} that source. The one
     * rule for control taking reports and nodes taking peer maps.
     */
    public static String endpointRefusal(String address, String source) {
        InetSocketAddress endpoint;
        try {
            endpoint = HostPort.parseEndpoint(address);
        } catch (RuntimeException e) {
            return "not ip:port";
        }
        AddressClass kind = of(endpoint.getAddress());
        if (kind.usableAs(source)) {
            return null;
        }
        return kind == PRIVATE ? "a private address is only a local endpoint"
                : "a " + kind.name().toLowerCase(Locale.ROOT).replace('_', '-') + " address is no endpoint";
    }
}
