package io.meshwork.node.relay;

import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/**
 * What a {@link RelayClient} runs on when it is not its own thread and the system clock: the network simulation
 * drives it on virtual time, with a seeded random source for backoff jitter and ping nonces, and with virtual
 * stream connections.
 *
 * @param executor the client's connection logic and timers run here, one task at a time; the client neither
 *                 waits for it nor shuts it down
 * @param nanoTime monotonic time in nanoseconds, on the executor's clock
 * @param random   backoff jitter and ping nonces
 * @param streams  where TCP fallback connections come from; empty for real TCP (and TLS) sockets
 */
public record RelayClientRuntime(ScheduledExecutorService executor, LongSupplier nanoTime, Random random,
        Optional<RelayStreamConnector> streams) {

    public RelayClientRuntime {
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(nanoTime, "nanoTime");
        Objects.requireNonNull(random, "random");
        Objects.requireNonNull(streams, "streams");
    }
}
