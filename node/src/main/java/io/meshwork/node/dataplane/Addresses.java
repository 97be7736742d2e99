package io.meshwork.node.dataplane;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** Parsing of IP literals and endpoints without DNS look-ups. */
public final class Addresses {

    private Addresses() {}

    static InetAddress of(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv4 or IPv6 address: " + bytes.length + " bytes");
        }
    }

    /** Parses an IPv4 or IPv6 literal; never resolves names. */
    public static InetAddress parseLiteral(String text) {
        String literal = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        boolean ipv4 = literal.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean ipv6 = literal.contains(":") && literal.matches("[0-9a-fA-F:.%a-zA-Z0-9]+");
        if (!ipv4 && !ipv6) {
            throw new IllegalArgumentException("not an IP address: " + text);
        }
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + text);
        }
    }

    /** Parses {@code 1.2.3.4:51820} or {@code [2001:db8::1]:51820}. */
    public static InetSocketAddress parseEndpoint(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("endpoint needs ip:port: " + text);
        }
        String host = text.substring(0, colon);
        if (host.contains(":") && !(host.startsWith("[") && host.endsWith("]"))) {
            throw new IllegalArgumentException("IPv6 endpoints need brackets: " + text);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in endpoint: " + text);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range in endpoint: " + text);
        }
        return new InetSocketAddress(parseLiteral(host), port);
    }

    /** The text form {@code wg} uses: {@code 1.2.3.4:5} or {@code [::1]:5}. */
    public static String format(InetSocketAddress endpoint) {
        String host = endpoint.getAddress().getHostAddress();
        int percent = host.indexOf('%');
        if (percent >= 0) {
            host = host.substring(0, percent);
        }
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + endpoint.getPort();
    }
}
