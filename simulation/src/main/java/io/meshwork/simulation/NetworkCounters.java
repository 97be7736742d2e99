package io.meshwork.simulation;

/**
 * What the whole virtual network did with the packets sent on it; NAT drops are broken down further in each
 * {@link NatBox}'s {@link NatCounters}, link drops in each {@link Link}.
 *
 * @param delivered packets a socket's handler received
 * @param droppedOnLinks packets lost to a link's loss rate or to a link being down
 * @param droppedByNats packets a NAT refused
 * @param droppedNoRoute packets to an address no site holds, such as a private address of another site
 * @param droppedNoSocket packets to a host port with no open socket, or that the socket had no handler for
 */
public record NetworkCounters(long delivered, long droppedOnLinks, long droppedByNats, long droppedNoRoute,
        long droppedNoSocket) {
}
