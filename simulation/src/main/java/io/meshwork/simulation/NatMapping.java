package io.meshwork.simulation;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * One live NAT mapping as seen from outside the box.
 *
 * @param destination what the mapping is keyed on besides the internal endpoint: empty for an
 *        endpoint-independent mapping, the address with port 0 for an address-dependent one, the full
 *        endpoint for an address-and-port-dependent one
 */
public record NatMapping(InetSocketAddress internal, InetSocketAddress external,
        Optional<InetSocketAddress> destination) {

    public NatMapping {
        Objects.requireNonNull(internal, "internal");
        Objects.requireNonNull(external, "external");
        Objects.requireNonNull(destination, "destination");
    }
}
