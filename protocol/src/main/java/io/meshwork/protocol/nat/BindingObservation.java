package io.meshwork.protocol.nat;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * One Binding transaction from the probing socket: the server address it went to and the mapped
 * address the answer reported, or empty when every retransmission went unanswered.
 */
public record BindingObservation(InetSocketAddress server, Optional<InetSocketAddress> mapped) {

    public BindingObservation {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(mapped, "mapped");
    }

    public static BindingObservation answered(InetSocketAddress server, InetSocketAddress mapped) {
        return new BindingObservation(server, Optional.of(mapped));
    }

    public static BindingObservation unanswered(InetSocketAddress server) {
        return new BindingObservation(server, Optional.empty());
    }
}
