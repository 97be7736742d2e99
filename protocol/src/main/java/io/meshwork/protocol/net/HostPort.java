package io.meshwork.protocol.net;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * {@code HOST[:PORT]} as users and control write it ({@code stun.example.net:3478}, {@code 192.0.2.1:3340},
 * {@code [2001:db8::1]:51820}): the one host:port type of the project, with a one-line message on every failure.
 * {@link #toString()} writes it back in the same form.
 */
public record HostPort(String host, int port) {

    /** RFC 8489 §18.1: the default port of STUN over UDP. */
    public static final int DEFAULT_STUN_PORT = 3478;
    /** RFC 1035 §2.3.4: a name is at most 253 characters; longer text is not a host. */
    static final int MAX_HOST_LENGTH = 253;

    /**
     * @param defaultPort used when the text has no port
     * @throws InvalidAddressException naming the text when it is not a host and port
     */
    public static HostPort parse(String text, int defaultPort) {
        String trimmed = text == null ? "" : text.trim();
        if (trimmed.isEmpty()) {
            throw new InvalidAddressException("empty address");
        }
        if (trimmed.length() > MAX_HOST_LENGTH + 8) {
            throw new InvalidAddressException("'" + trimmed.substring(0, 40) + "…': too long for a host and port");
        }
        String host;
        String port = null;
        if (trimmed.startsWith("[")) {
            int close = trimmed.indexOf(']');
            if (close < 0) {
                throw new InvalidAddressException("'" + text + "': missing ']' after the IPv6 address");
            }
            host = trimmed.substring(1, close);
            String after = trimmed.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    throw new InvalidAddressException("'" + text + "': expected ':PORT' after ']'");
                }
                port = after.substring(1);
            }
            IpLiteral.parse(host);
        } else {
            int colon = trimmed.lastIndexOf(':');
            if (colon >= 0 && trimmed.indexOf(':') != colon) {
                throw new InvalidAddressException("'" + text + "': put IPv6 addresses in brackets, as [::1]:3478");
            }
            host = colon < 0 ? trimmed : trimmed.substring(0, colon);
            port = colon < 0 ? null : trimmed.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw new InvalidAddressException("'" + text + "': missing host");
        }
        if (!host.contains(":") && !host.matches("[A-Za-z0-9._-]+")) {
            throw new InvalidAddressException("'" + text + "': '" + host + "' is not a host name or address");
        }
        return new HostPort(host, port == null ? defaultPort : parsePort(text, port));
    }

    /**
     * Parses an endpoint with an IP literal and a port from 1 to 65535 ({@code 192.0.2.1:51820},
     * {@code [2001:db8::1]:51820}), never asking DNS: what peers and control hand a node.
     */
    public static InetSocketAddress parseEndpoint(String text) {
        HostPort parsed = parse(text, 0);
        if (text.trim().lastIndexOf(':') < 0 || text.trim().endsWith("]")) {
            throw new InvalidAddressException("an endpoint needs ip:port: " + text);
        }
        if (parsed.port() == 0) {
            throw new InvalidAddressException("port 0 is not an endpoint's port: " + text);
        }
        return new InetSocketAddress(IpLiteral.parse(parsed.host()), parsed.port());
    }

    private static int parsePort(String text, String port) {
        if (!port.matches("\\d{1,5}")) {
            throw new InvalidAddressException("'" + text + "': port '" + port + "' is not a number");
        }
        int value = Integer.parseInt(port);
        if (value > 65535) {
            throw new InvalidAddressException("'" + text + "': port " + value + " is outside 0-65535");
        }
        return value;
    }

    /** Resolves the host name (DNS when it is not a literal). */
    public InetSocketAddress resolve() {
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new InvalidAddressException("cannot resolve host '" + host + "'");
        }
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
