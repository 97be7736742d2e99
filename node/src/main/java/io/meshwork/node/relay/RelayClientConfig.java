package io.meshwork.node.relay;

import java.time.Duration;

/**
 * Timing of a {@link RelayClient}.
 *
 * @param udpHelloInterval   how often a UDP hello is repeated while the relay has not answered
 * @param udpAnswerTimeout   how long UDP may go unanswered before the client falls back to TCP
 * @param udpUpgradeInterval while on TCP, how often to try UDP again (UDP is preferred: lower latency, and the
 *                           relay then observes the node's public UDP mapping)
 * @param tcpConnectTimeout  bound on a TCP connect plus handshake
 * @param keepaliveInterval  pings while connected; the relay's idle timeout must be well above this
 * @param deadAfter          silence from the relay after which the connection is considered dead
 * @param initialBackoff     first delay before reconnecting after a failure, doubled per failure
 * @param maxBackoff         the cap on that delay
 * @param tcpSendQueueFrames frames waiting for the TCP writer; sends beyond it are dropped
 * @param tcpFirst           the first attempt goes straight to TCP (a node whose previous relay it reached only over
 *                           TCP, failing over: its UDP is likely blocked); later attempts start with UDP as usual
 */
public record RelayClientConfig(Duration udpHelloInterval, Duration udpAnswerTimeout, Duration udpUpgradeInterval,
        Duration tcpConnectTimeout, Duration keepaliveInterval, Duration deadAfter, Duration initialBackoff,
        Duration maxBackoff, int tcpSendQueueFrames, boolean tcpFirst) {

    public static RelayClientConfig defaults() {
        return new RelayClientConfig(Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofSeconds(60),
                Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(16), Duration.ofMillis(500),
                Duration.ofSeconds(30), 1024, false);
    }

    public RelayClientConfig withUdpAnswerTimeout(Duration timeout) {
        return new RelayClientConfig(udpHelloInterval, timeout, udpUpgradeInterval, tcpConnectTimeout,
                keepaliveInterval, deadAfter, initialBackoff, maxBackoff, tcpSendQueueFrames, tcpFirst);
    }

    public RelayClientConfig withUdpUpgradeInterval(Duration interval) {
        return new RelayClientConfig(udpHelloInterval, udpAnswerTimeout, interval, tcpConnectTimeout,
                keepaliveInterval, deadAfter, initialBackoff, maxBackoff, tcpSendQueueFrames, tcpFirst);
    }

    public RelayClientConfig withBackoff(Duration initial, Duration max) {
        return new RelayClientConfig(udpHelloInterval, udpAnswerTimeout, udpUpgradeInterval, tcpConnectTimeout,
                keepaliveInterval, deadAfter, initial, max, tcpSendQueueFrames, tcpFirst);
    }

    public RelayClientConfig withTcpFirst(boolean first) {
        return new RelayClientConfig(udpHelloInterval, udpAnswerTimeout, udpUpgradeInterval, tcpConnectTimeout,
                keepaliveInterval, deadAfter, initialBackoff, maxBackoff, tcpSendQueueFrames, first);
    }
}
