package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.PortMapProtocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * A port mapping the gateway granted: traffic to {@code external} reaches this host's {@code internalPort}.
 *
 * @param gateway the router that made it
 * @param expires when the gateway drops it unless renewed (renewal is due at half the lifetime)
 */
public record PortMapping(PortMapProtocol protocol, InetAddress gateway, InetSocketAddress external, int internalPort,
        Instant expires) {}
