package io.meshwork.relay.server;

import io.meshwork.relay.auth.RevocationList;
import io.meshwork.relay.auth.TrustAnchors;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;

/** How a relay server listens and what it allows each client. Build with {@link #builder(TrustAnchors)}. */
public final class RelayConfig {

    final Optional<InetSocketAddress> udpBind;
    final Optional<InetSocketAddress> tcpBind;
    final Optional<SslContext> tls;
    final TrustAnchors anchors;
    final RevocationList revocations;
    final long clientBytesPerSecond;
    final long clientBurstBytes;
    final Duration idleTimeout;
    final Duration handshakeTimeout;
    final Duration challengeLifetime;
    final int maxClients;
    final int maxPendingConnectionsPerSource;
    final int maxPendingConnections;
    final long answersPerSecondPerSource;
    final long answerBurstPerSource;
    final int maxAnswerSources;
    final int tcpQueueLowBytes;
    final int tcpQueueHighBytes;
    final int ioThreads;
    /** Wall time: certificate validity and challenge freshness. */
    final Clock clock;
    /** Monotonic time in nanoseconds: rate limits and liveness. */
    final LongSupplier nanoTime;
    final RelayEvents events;
    /** The one organization a node's relay serves; empty: every organization's devices (a standalone relay). */
    final Optional<String> organization;

    private RelayConfig(Builder builder) {
        this.udpBind = Optional.ofNullable(builder.udpBind);
        this.tcpBind = Optional.ofNullable(builder.tcpBind);
        this.tls = Optional.ofNullable(builder.tls);
        this.anchors = builder.anchors;
        this.revocations = builder.revocations;
        this.clientBytesPerSecond = builder.clientBytesPerSecond;
        this.clientBurstBytes = builder.clientBurstBytes;
        this.idleTimeout = builder.idleTimeout;
        this.handshakeTimeout = builder.handshakeTimeout;
        this.challengeLifetime = builder.challengeLifetime;
        this.maxClients = builder.maxClients;
        this.maxPendingConnectionsPerSource = builder.maxPendingConnectionsPerSource;
        this.maxPendingConnections = builder.maxPendingConnections;
        this.answersPerSecondPerSource = builder.answersPerSecondPerSource;
        this.answerBurstPerSource = builder.answerBurstPerSource;
        this.maxAnswerSources = builder.maxAnswerSources;
        this.tcpQueueLowBytes = builder.tcpQueueHighBytes / 2;
        this.tcpQueueHighBytes = builder.tcpQueueHighBytes;
        this.ioThreads = builder.ioThreads;
        this.clock = builder.clock;
        this.nanoTime = builder.nanoTime;
        this.events = builder.events;
        this.organization = Optional.ofNullable(builder.organization);
        if (udpBind.isEmpty() && tcpBind.isEmpty()) {
            throw new IllegalArgumentException("a relay needs a UDP or a TCP listener");
        }
    }

    public static Builder builder(TrustAnchors anchors) {
        return new Builder(anchors);
    }

    public static final class Builder {
        private InetSocketAddress udpBind;
        private InetSocketAddress tcpBind;
        private SslContext tls;
        private final TrustAnchors anchors;
        private RevocationList revocations = new RevocationList();
        private long clientBytesPerSecond = 64L << 20;
        private long clientBurstBytes = 4L << 20;
        private Duration idleTimeout = Duration.ofSeconds(60);
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private Duration challengeLifetime = Duration.ofSeconds(30);
        private int maxClients = 100_000;
        private int maxPendingConnectionsPerSource = 64;
        private int maxPendingConnections = 4_096;
        private long answersPerSecondPerSource = 100;
        private long answerBurstPerSource = 200;
        private int maxAnswerSources = 65_536;
        private int tcpQueueHighBytes = 1 << 20;
        private int ioThreads = 2;
        private RelayEvents events = RelayEvents.NONE;
        private String organization;
        private Clock clock = Clock.systemUTC();
        private LongSupplier nanoTime = System::nanoTime;

        private Builder(TrustAnchors anchors) {
            this.anchors = Objects.requireNonNull(anchors, "anchors");
        }

        /** Listen for UDP clients (and STUN) here; port 0 picks a free port, null turns UDP off. */
        public Builder udp(InetSocketAddress bind) {
            this.udpBind = bind;
            return this;
        }

        /** Listen for TCP clients here; port 0 picks a free port, null turns TCP off. */
        public Builder tcp(InetSocketAddress bind) {
            this.tcpBind = bind;
            return this;
        }

        /** Wrap TCP connections in TLS with this server context. */
        public Builder tls(SslContext serverContext) {
            this.tls = serverContext;
            return this;
        }

        public Builder revocations(RevocationList list) {
            this.revocations = Objects.requireNonNull(list);
            return this;
        }

        /** Each client's sustained rate and burst, in wire bytes it sends to the relay. */
        public Builder clientRateLimit(long bytesPerSecond, long burstBytes) {
            if (bytesPerSecond <= 0 || burstBytes <= 0) {
                throw new IllegalArgumentException("rate and burst must be positive");
            }
            this.clientBytesPerSecond = bytesPerSecond;
            this.clientBurstBytes = burstBytes;
            return this;
        }

        /** Sessions with nothing received for this long are closed. */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = timeout;
            return this;
        }

        /** TCP connections that have not authenticated within this are closed. */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = timeout;
            return this;
        }

        public Builder maxClients(int max) {
            this.maxClients = max;
            return this;
        }

        /**
         * TCP connections that have not authenticated yet, allowed per source IP address and in total; more are
         * closed at once and counted ({@link DropReason#CONNECTION_LIMIT_SOURCE},
         * {@link DropReason#CONNECTION_LIMIT_TOTAL}).
         */
        public Builder maxPendingConnections(int perSource, int total) {
            if (perSource <= 0 || total <= 0) {
                throw new IllegalArgumentException("connection limits must be positive");
            }
            this.maxPendingConnectionsPerSource = perSource;
            this.maxPendingConnections = total;
            return this;
        }

        /**
         * How many STUN answers and handshake answers (challenges, verdicts, "unauthenticated") one source IP
         * address gets per second, past a burst; the relay keeps a budget for at most {@code maxSources} addresses,
         * forgetting the least recently seen.
         */
        public Builder sourceAnswerRate(long perSecond, long burst, int maxSources) {
            if (perSecond <= 0 || burst <= 0 || maxSources <= 0) {
                throw new IllegalArgumentException("answer rate, burst and sources must be positive");
            }
            this.answersPerSecondPerSource = perSecond;
            this.answerBurstPerSource = burst;
            this.maxAnswerSources = maxSources;
            return this;
        }

        /** The TCP send queue per client; frames are dropped above it (it resumes below half). */
        public Builder tcpQueueBytes(int highWatermark) {
            this.tcpQueueHighBytes = highWatermark;
            return this;
        }

        public Builder ioThreads(int threads) {
            this.ioThreads = threads;
            return this;
        }

        /**
         * Serve only devices whose certificates name this organization (a node relaying for its own organization):
         * others are refused at authentication with {@link io.meshwork.protocol.relay.AuthStatus#OTHER_ORGANIZATION}.
         * Null (the default): every organization's devices, each reaching only its own.
         */
        public Builder organization(String organizationId) {
            if (organizationId != null && organizationId.isBlank()) {
                throw new IllegalArgumentException("a relay's organization is an organization id");
            }
            this.organization = organizationId;
            return this;
        }

        public Builder events(RelayEvents events) {
            this.events = events;
            return this;
        }

        /**
         * The relay's time: {@code clock} for what is compared with certificates and challenges,
         * {@code nanoTime} (monotonic) for rate limits and idle sessions. A simulation passes virtual time.
         */
        public Builder time(Clock clock, LongSupplier nanoTime) {
            this.clock = Objects.requireNonNull(clock, "clock");
            this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
            return this;
        }

        public RelayConfig build() {
            return new RelayConfig(this);
        }
    }
}
