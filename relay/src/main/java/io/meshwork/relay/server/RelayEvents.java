package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.relay.auth.VerifiedDevice;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * What the relay tells the world about its clients: control registration reports observed endpoints from here.
 * Called on I/O threads; implementations must not block.
 */
public interface RelayEvents {

    RelayEvents NONE = new RelayEvents() {
    };

    /** A device authenticated; {@code observed} is its source address as the relay sees it. */
    default void sessionOpened(VerifiedDevice device, Transport transport, InetSocketAddress observed) {
    }

    /** A device's session ended: closed by the relay for {@code reason}, or (empty) the client went away. */
    default void sessionClosed(VerifiedDevice device, Transport transport, Optional<CloseReason> reason) {
    }
}
