package io.meshwork.simulation;

import java.net.InetSocketAddress;

/**
 * One UDP datagram in flight. The payload is a private copy made at send time and handed to exactly one
 * receiver, so no two parties ever share it.
 *
 * @param ttl the IP time to live: every NAT that forwards the packet takes one, and so does the router between a
 *            site and the internet; a router that would forward it with none left drops it
 */
record Packet(InetSocketAddress source, InetSocketAddress destination, byte[] payload, int ttl) {

    /** Linux's default time to live. */
    static final int DEFAULT_TTL = 64;

    Packet(InetSocketAddress source, InetSocketAddress destination, byte[] payload) {
        this(source, destination, payload, DEFAULT_TTL);
    }

    Packet withSource(InetSocketAddress newSource) {
        return new Packet(newSource, destination, payload, ttl);
    }

    Packet withDestination(InetSocketAddress newDestination) {
        return new Packet(source, newDestination, payload, ttl);
    }

    /** The packet as a router forwards it: one hop less to live. */
    Packet forwarded() {
        return new Packet(source, destination, payload, ttl - 1);
    }
}
