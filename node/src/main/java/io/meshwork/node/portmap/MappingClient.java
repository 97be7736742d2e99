package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.PortMapProtocol;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;

/** One port-mapping protocol's client: blocking calls, each bounded by the client's own timeouts. */
interface MappingClient {

    PortMapProtocol protocol();

    /**
     * Asks {@code gateway} to map UDP {@code internalPort} for {@code lifetime}, or renews {@code previous} (null
     * for a new mapping). Empty when the gateway does not speak this protocol or refuses.
     */
    Optional<Lease> map(InetAddress gateway, int internalPort, Duration lifetime, Lease previous) throws IOException;

    /**
     * Whether the gateway still holds this client's mappings (RFC 6887 §8.5 and RFC 6886 §3.6: its epoch did not
     * go back); true where the protocol cannot tell.
     */
    boolean stillValid(Lease lease) throws IOException;

    /** Asks the gateway to delete the mapping. */
    void delete(Lease lease) throws IOException;
}
