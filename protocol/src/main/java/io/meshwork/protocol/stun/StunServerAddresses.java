package io.meshwork.protocol.stun;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a STUN server listens. With one IP: one socket. With two IPs: the four sockets of RFC 5780 §4.1
 * (IP1:P, IP1:P+1, IP2:P, IP2:P+1), the alternate port being P+1 as coturn also chooses.
 */
public record StunServerAddresses(InetAddress primaryIp, Optional<InetAddress> alternateIp, int port) {

    public StunServerAddresses {
        Objects.requireNonNull(primaryIp, "primaryIp");
        Objects.requireNonNull(alternateIp, "alternateIp");
        if (port < 1 || port > (alternateIp.isPresent() ? 0xFFFE : 0xFFFF)) {
            throw new IllegalArgumentException("port " + port + " leaves no room for the socket set");
        }
        if (alternateIp.isPresent() && alternateIp.get().equals(primaryIp)) {
            throw new IllegalArgumentException("the alternate IP must differ from the primary IP");
        }
    }

    public static StunServerAddresses single(InetAddress ip, int port) {
        return new StunServerAddresses(ip, Optional.empty(), port);
    }

    public static StunServerAddresses rfc5780(InetAddress primaryIp, InetAddress alternateIp, int port) {
        return new StunServerAddresses(primaryIp, Optional.of(alternateIp), port);
    }

    /** True when the server can answer CHANGE-REQUEST and report OTHER-ADDRESS. */
    public boolean supportsRfc5780() {
        return alternateIp.isPresent();
    }

    /** The address clients send their first request to. */
    public InetSocketAddress primary() {
        return new InetSocketAddress(primaryIp, port);
    }

    /** Every socket to open: one, or four in RFC 5780 mode. */
    public List<InetSocketAddress> sockets() {
        if (alternateIp.isEmpty()) {
            return List.of(primary());
        }
        InetAddress other = alternateIp.get();
        return List.of(primary(), new InetSocketAddress(primaryIp, port + 1),
                new InetSocketAddress(other, port), new InetSocketAddress(other, port + 1));
    }

    /**
     * The socket that differs from {@code local} in IP when {@code changeIp} and in port when
     * {@code changePort}; empty when {@code local} is not ours or a change needs an alternate we lack.
     */
    public Optional<InetSocketAddress> changed(InetSocketAddress local, boolean changeIp, boolean changePort) {
        if (!sockets().contains(local)) {
            return Optional.empty();
        }
        if (!changeIp && !changePort) {
            return Optional.of(local);
        }
        if (alternateIp.isEmpty()) {
            return Optional.empty();
        }
        boolean onPrimaryIp = local.getAddress().equals(primaryIp);
        boolean onPrimaryPort = local.getPort() == port;
        InetAddress ip = (onPrimaryIp ^ changeIp) ? primaryIp : alternateIp.get();
        int chosenPort = (onPrimaryPort ^ changePort) ? port : port + 1;
        return Optional.of(new InetSocketAddress(ip, chosenPort));
    }
}
