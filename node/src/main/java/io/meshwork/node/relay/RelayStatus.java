package io.meshwork.node.relay;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * A relay client's state, for {@code status} output and for the node's endpoint discovery.
 *
 * @param state           where the client is in its connection cycle
 * @param transport       the transport in use when connected
 * @param observedAddress the client's source address as the relay last reported it (endpoint reflection); over
 *                        UDP this is the node's public mapping for its WireGuard socket
 * @param lastRefusal     the relay's last refusal, with its reason, if the last handshake was refused
 * @param detail          a short human-readable explanation of the state
 */
public record RelayStatus(State state, Optional<Transport> transport, Optional<InetSocketAddress> observedAddress,
        Optional<AuthStatus> lastRefusal, String detail) {

    public enum State {
        CONNECTING_UDP,
        CONNECTING_TCP,
        CONNECTED,
        /** Waiting out a backoff before the next attempt. */
        BACKING_OFF,
        CLOSED
    }

    public boolean connected() {
        return state == State.CONNECTED;
    }
}
