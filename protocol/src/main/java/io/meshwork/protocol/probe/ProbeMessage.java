package io.meshwork.protocol.probe;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * What two nodes say to each other to find and keep a direct path (docs/architecture.md, "Node"). Pings and pongs
 * travel on the node's WireGuard socket, so a pong proves the very path WireGuard traffic would take; call-me-maybe
 * travels through the relay and asks the peer to probe back at the same moment, which opens both NATs at once.
 */
public sealed interface ProbeMessage {

    /** Bytes of a transaction id: a pong carries its ping's. */
    int TXID_LENGTH = 12;

    /** "Are you there on this path?" Answered by a {@link Pong} to the address the ping came from. */
    record Ping(byte[] txid) implements ProbeMessage {
        public Ping {
            txid = checkTxid(txid);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Ping ping && Arrays.equals(txid, ping.txid);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(txid);
        }

        @Override
        public String toString() {
            return "Ping[" + HexFormat.of().formatHex(txid) + "]";
        }
    }

    /**
     * The answer to a ping.
     *
     * @param observed where the ping came from as the answering node saw it: the asker's reflexive address on
     *                 this path (null when the ping came through the relay)
     */
    record Pong(byte[] txid, InetSocketAddress observed) implements ProbeMessage {
        public Pong {
            txid = checkTxid(txid);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Pong pong && Arrays.equals(txid, pong.txid)
                    && java.util.Objects.equals(observed, pong.observed);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(txid) * 31 + java.util.Objects.hashCode(observed);
        }

        @Override
        public String toString() {
            return "Pong[" + HexFormat.of().formatHex(txid) + ", observed=" + observed + "]";
        }
    }

    /**
     * "Probe me now at these endpoints": sent through the relay when a node starts probing.
     *
     * @param endpoints                  the sender's candidate endpoints (LAN and reflexive)
     * @param endpointDependentMapping   the sender's NAT gives a new mapping per destination, so its reflexive
     *                                   endpoints are not what the receiver will see: the receiver should try
     *                                   port prediction towards the sender's public IP
     * @param openedFirst                the sender has just opened its own NAT mapping towards the receiver with
     *                                   TTL-limited probes and sends nothing further until the receiver's probes
     *                                   arrive: the receiver probes now (the turn-taking after a suspected
     *                                   conntrack collision, docs/architecture.md "Paths")
     */
    record CallMeMaybe(List<InetSocketAddress> endpoints, boolean endpointDependentMapping, boolean openedFirst)
            implements ProbeMessage {
        /** At most this many endpoints fit in one message. */
        public static final int MAX_ENDPOINTS = 32;

        /** A call-me-maybe of an ordinary attempt. */
        public CallMeMaybe(List<InetSocketAddress> endpoints, boolean endpointDependentMapping) {
            this(endpoints, endpointDependentMapping, false);
        }

        public CallMeMaybe {
            endpoints = List.copyOf(endpoints);
            if (endpoints.size() > MAX_ENDPOINTS) {
                throw new IllegalArgumentException("at most " + MAX_ENDPOINTS + " endpoints, got " + endpoints.size());
            }
        }
    }

    private static byte[] checkTxid(byte[] txid) {
        if (txid == null || txid.length != TXID_LENGTH) {
            throw new IllegalArgumentException("a transaction id has " + TXID_LENGTH + " bytes");
        }
        return txid.clone();
    }
}
