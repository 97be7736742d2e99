package io.meshwork.node.local;

/**
 * One answer to {@code meshwork ping}: which path it came back on and how long it took.
 *
 * @param seq       the ping's sequence number, from 1
 * @param path      "direct" or "relay", or "timeout" when no answer came
 * @param via       the direct ip:port or the relay name
 * @param latencyMs round-trip time, or null on timeout
 */
public record PingReply(int seq, String peer, String path, String via, Double latencyMs) {}
