package io.meshwork.node.agent;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's IPv4 addresses on interfaces that are up, neither loopback nor point-to-point: the node's
 * {@code local} endpoints (docs/architecture.md, "Node", endpoint discovery).
 */
final class LocalAddresses {

    private static final Logger log = LoggerFactory.getLogger(LocalAddresses.class);

    private LocalAddresses() {}

    /** The addresses as literals; empty (logged at debug) when the interfaces cannot be listed. */
    static List<String> ipv4() {
        try {
            return list();
        } catch (IOException e) {
            log.debug("cannot list local addresses: {}", e.toString());
            return List.of();
        }
    }

    private static List<String> list() throws IOException {
        List<String> addresses = new ArrayList<>();
        for (NetworkInterface network : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!network.isUp() || network.isLoopback() || network.isPointToPoint()) {
                continue;
            }
            network.getInterfaceAddresses().stream()
                    .map(address -> address.getAddress())
                    .filter(address -> address instanceof Inet4Address)
                    .forEach(address -> addresses.add(address.getHostAddress()));
        }
        return addresses;
    }
}
