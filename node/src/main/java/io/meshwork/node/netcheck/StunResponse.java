package io.meshwork.node.netcheck;

import io.meshwork.protocol.stun.StunMessage;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * An answer to one of our STUN requests.
 *
 * @param from where the answer came from: differs from the server address after a CHANGE-REQUEST
 * @param roundTrip from the first send of the request to this answer
 */
public record StunResponse(StunMessage message, InetSocketAddress from, Duration roundTrip) {

    public StunResponse {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(roundTrip, "roundTrip");
    }
}
