package io.meshwork.simulation;

import java.net.InetSocketAddress;

/**
 * One UDP datagram in flight. The payload is a private copy made at send time and handed to exactly one
 * receiver, so no two parties ever share it.
 */
record Packet(InetSocketAddress source, InetSocketAddress destination, byte[] payload) {

    Packet withSource(InetSocketAddress newSource) {
        return new Packet(newSource, destination, payload);
    }

    Packet withDestination(InetSocketAddress newDestination) {
        return new Packet(source, newDestination, payload);
    }
}
