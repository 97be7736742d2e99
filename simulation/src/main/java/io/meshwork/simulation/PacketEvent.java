package io.meshwork.simulation;

import java.net.InetSocketAddress;

/**
 * The end of one packet's journey, as reported to a {@link VirtualNetwork} observer: delivered to a socket,
 * or dropped and where. Addresses are as the packet carried them at that point (after any translation).
 *
 * @param where the socket, link, NAT or site the packet ended at
 * @param detail why a dropped packet was dropped; empty when delivered
 */
public record PacketEvent(long atNanos, Outcome outcome, InetSocketAddress source, InetSocketAddress destination,
        int length, String where, String detail) {

    public enum Outcome { DELIVERED, DROPPED }

    @Override
    public String toString() {
        return atNanos + "ns " + outcome + " " + source + " -> " + destination + " (" + length + " B) at " + where
                + (detail.isEmpty() ? "" : ": " + detail);
    }
}
