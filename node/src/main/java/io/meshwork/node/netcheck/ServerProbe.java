package io.meshwork.node.netcheck;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What one configured STUN server told us in its first Binding transaction.
 *
 * @param mapped our public endpoint as the server saw it; empty when it never answered
 * @param otherAddress the server's RFC 5780 alternate address, when it has one
 * @param roundTrip from the first send to the answer
 */
public record ServerProbe(InetSocketAddress server, Optional<InetSocketAddress> mapped,
        Optional<InetSocketAddress> otherAddress, Optional<Duration> roundTrip) {

    public ServerProbe {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(mapped, "mapped");
        Objects.requireNonNull(otherAddress, "otherAddress");
        Objects.requireNonNull(roundTrip, "roundTrip");
    }

    static ServerProbe of(InetSocketAddress server, Optional<StunResponse> response) {
        Optional<StunResponse> success = response.filter(r -> r.message().mappedAddress().isPresent());
        return new ServerProbe(server,
                success.flatMap(r -> r.message().mappedAddress()),
                success.flatMap(r -> r.message().otherAddress()),
                success.map(StunResponse::roundTrip));
    }
}
