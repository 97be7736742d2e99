package io.meshwork.protocol.api;

import java.util.List;

/**
 * {@code POST /api/v1/devices/self/paths}: how the reporting device reaches each of its peers now (docs/api.md,
 * "Paths"). Control keeps the latest report of each device in memory, last write wins.
 *
 * @param peers one entry per peer of the device's peer map
 */
public record PathReport(List<Peer> peers) {

    /**
     * @param peerId        the peer's device id
     * @param path          "direct", "relay" or "none" (no WireGuard session yet)
     * @param latencyMillis the latest round trip on that path, or null before one was measured
     * @param relay         the relay's name when relayed, else null
     * @param reason        why the path is what it is, in words (as {@code meshwork status} shows it), or null
     */
    public record Peer(String peerId, String path, Double latencyMillis, String relay, String reason) {}
}
