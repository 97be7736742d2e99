package io.meshwork.node.relay;

import java.net.InetSocketAddress;
import java.util.Optional;
import javax.net.ssl.SSLSocketFactory;

/**
 * Where a relay listens. UDP is tried first; TCP (with TLS when {@code tls} is given) is the fallback for
 * networks that block UDP. At least one must be present.
 */
public record RelayAddress(Optional<InetSocketAddress> udp, Optional<InetSocketAddress> tcp,
        Optional<SSLSocketFactory> tls) {

    public RelayAddress {
        if (udp.isEmpty() && tcp.isEmpty()) {
            throw new IllegalArgumentException("a relay address needs UDP or TCP");
        }
    }

    public static RelayAddress of(InetSocketAddress udp, InetSocketAddress tcp) {
        return new RelayAddress(Optional.of(udp), Optional.of(tcp), Optional.empty());
    }

    public static RelayAddress udpOnly(InetSocketAddress udp) {
        return new RelayAddress(Optional.of(udp), Optional.empty(), Optional.empty());
    }

    public static RelayAddress tcpOnly(InetSocketAddress tcp) {
        return new RelayAddress(Optional.empty(), Optional.of(tcp), Optional.empty());
    }

    public RelayAddress withTls(SSLSocketFactory factory) {
        return new RelayAddress(udp, tcp, Optional.of(factory));
    }
}
