package io.meshwork.node.netcheck;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * A user-given {@code HOST[:PORT]} (IPv6 literals in brackets: {@code [2001:db8::1]:3478}), parsed
 * and resolved with a one-line message on every failure.
 */
public record HostPort(String host, int port) {

    /** RFC 8489 §18.1: the default port of STUN over UDP. */
    public static final int DEFAULT_STUN_PORT = 3478;

    /** Why a user-given address was refused; the message is fit to print as it is. */
    public static final class InvalidAddressException extends Exception {
        public InvalidAddressException(String message) {
            super(message);
        }
    }

    /**
     * @param defaultPort used when the text has no port
     */
    public static HostPort parse(String text, int defaultPort) throws InvalidAddressException {
        String trimmed = text.trim();
        if (trimmed.isEmpty()) {
            throw new InvalidAddressException("empty address");
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
        return new HostPort(host, port == null ? defaultPort : parsePort(text, port));
    }

    private static int parsePort(String text, String port) throws InvalidAddressException {
        int value;
        try {
            value = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new InvalidAddressException("'" + text + "': port '" + port + "' is not a number");
        }
        if (value < 0 || value > 65535) {
            throw new InvalidAddressException("'" + text + "': port " + value + " is outside 0-65535");
        }
        return value;
    }

    /** Resolves the host name (DNS when needed). */
    public InetSocketAddress resolve() throws InvalidAddressException {
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
