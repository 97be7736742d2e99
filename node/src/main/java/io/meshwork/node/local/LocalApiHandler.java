package io.meshwork.node.local;

import java.util.function.Consumer;

/** What the running agent offers its local control socket. Calls come from socket threads. */
public interface LocalApiHandler {

    NodeStatus status();

    /**
     * Pings {@code peer} (a hostname, overlay IP or device id) {@code count} times, handing each reply or
     * timeout to {@code replies} as it happens, and returns when done.
     *
     * @throws IllegalArgumentException when no such peer exists
     */
    void ping(String peer, int count, Consumer<PingReply> replies);

    /** Starts an orderly shutdown of the agent; returns at once. */
    void shutdown();
}
