package io.meshwork.relay.server;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.ObservedAddress;
import io.meshwork.protocol.relay.RelayFrame.PeerGone;
import io.meshwork.protocol.relay.RelayFrame.Ping;
import io.meshwork.protocol.relay.RelayFrame.Pong;
import io.meshwork.protocol.relay.RelayFrame.ReceivedDisco;
import io.meshwork.protocol.relay.RelayFrame.ReceivedPacket;
import io.meshwork.protocol.relay.RelayFrame.SendDisco;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.UdpSessionKey;
import io.meshwork.relay.auth.CredentialVerdict;
import io.meshwork.relay.auth.VerifiedDevice;
import io.meshwork.relay.metrics.RelayMetrics;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's routing table and policy, shared by the UDP and TCP listeners: who is connected under which key,
 * where each frame goes (only between devices of one organization), what is dropped and why, and the budgets of
 * what is done for clients without a session (answers per source address, unauthenticated connections). It never
 * looks inside payloads. Time comes from the config
 * ({@link RelayConfig.Builder#time}), so the same logic runs on virtual time in the simulation.
 *
 * <p>Thread-safety: called concurrently from the UDP and TCP I/O threads and from the sweeper. A client's own
 * frames always arrive on one thread (its connection's, or the UDP socket's), which is what its token bucket
 * relies on; the tables are concurrent maps and a session's delivery is non-blocking and thread-safe.
 */
final class RelayHub {

    private static final Logger log = LoggerFactory.getLogger(RelayHub.class);

    private final RelayConfig config;
    private final Authenticator authenticator;
    private final RelayMetrics metrics;
    private final ConcurrentHashMap<RelayKey, ClientSession> byKey = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<InetSocketAddress, UdpSession> byUdpAddress = new ConcurrentHashMap<>();
    private final SourceRateLimiter answers;
    private final PendingConnections pending;

    RelayHub(RelayConfig config, Authenticator authenticator, RelayMetrics metrics) {
        this.config = config;
        this.authenticator = authenticator;
        this.metrics = metrics;
        this.answers = new SourceRateLimiter(config.answersPerSecondPerSource, config.answerBurstPerSource,
                config.maxAnswerSources, config.nanoTime);
        this.pending = new PendingConnections(config.maxPendingConnectionsPerSource, config.maxPendingConnections);
        metrics.clientsGauge(this, Transport.UDP, hub -> hub.clientCount(Transport.UDP));
        metrics.clientsGauge(this, Transport.TCP, hub -> hub.clientCount(Transport.TCP));
        config.revocations.onChange(this::closeRevoked);
    }

    RelayMetrics metrics() {
        return metrics;
    }

    int clientCount() {
        return byKey.size();
    }

    int clientCount(Transport transport) {
        int udp = byUdpAddress.size();
        return transport == Transport.UDP ? udp : Math.max(0, byKey.size() - udp);
    }

    Optional<Transport> transportOf(RelayKey key) {
        return Optional.ofNullable(byKey.get(key)).map(ClientSession::transport);
    }

    void dropped(DropReason reason, String detail, Object source) {
        metrics.dropped(reason);
        if (log.isDebugEnabled()) {
            log.debug("dropped from {}: {} {}", source, reason.label(), detail);
        }
    }

    /**
     * Whether the relay may answer {@code source} without a session now (a STUN answer, a challenge, a verdict):
     * takes one answer from the source's budget, or counts a drop for {@code reason} and returns false.
     */
    boolean mayAnswer(InetSocketAddress source, DropReason reason, String what) {
        if (answers.tryAnswer(source.getAddress())) {
            return true;
        }
        dropped(reason, what, source);
        return false;
    }

    /**
     * Counts a new stream connection from {@code source} against the caps on unauthenticated connections; false
     * (and a counted refusal) when it must be closed. An admitted connection calls {@link #pendingEnded} once.
     */
    boolean tryOpenPending(InetSocketAddress source) {
        PendingConnections.Admission admission = pending.tryOpen(source.getAddress());
        switch (admission) {
            case SOURCE_FULL -> dropped(DropReason.CONNECTION_LIMIT_SOURCE, "connection refused", source);
            case TOTAL_FULL -> dropped(DropReason.CONNECTION_LIMIT_TOTAL, "connection refused", source);
            case ADMITTED -> {
                return true;
            }
        }
        return false;
    }

    /** An admitted stream connection authenticated or closed. */
    void pendingEnded(InetSocketAddress source) {
        pending.release(source.getAddress());
    }

    /** Stream connections not authenticated yet. */
    int pendingConnections() {
        return pending.count();
    }

    /** The UDP session key for a client whose authentication {@link #onAuth} accepted. */
    UdpSessionKey udpSessionKey(ClientAuth auth) {
        return authenticator.udpSessionKey(auth);
    }

    /** Handshake step one, on either transport: the answer to send back. */
    RelayFrame onHello(ClientHello hello, String source) {
        return authenticator.challenge(hello, source, config.clock.instant());
    }

    /**
     * Handshake step two. On success the session is registered (replacing any older one for the key) and
     * {@code reply} gets the OK result and the observed address; on failure it gets the refusal.
     */
    <S extends ClientSession> Optional<S> onAuth(ClientAuth auth, String source, SessionFactory<S> factory,
            Consumer<RelayFrame> reply) {
        Instant now = config.clock.instant();
        CredentialVerdict verdict = authenticator.authenticate(auth, source, now);
        if (verdict instanceof CredentialVerdict.Refused refused) {
            metrics.authenticated(refused.status());
            log.debug("refused {} from {}: {} {}", auth.clientKey(), source, refused.status(), refused.reason());
            reply.accept(new AuthResult(refused.status(), refused.reason()));
            return Optional.empty();
        }
        CredentialVerdict.Accepted accepted = (CredentialVerdict.Accepted) verdict;
        if (config.organization.isPresent()
                && !config.organization.get().equals(accepted.device().organizationId())) {
            // A node's relay carries its own organization's traffic only.
            metrics.authenticated(AuthStatus.OTHER_ORGANIZATION);
            log.debug("refused {} ({}) from {}: {} organization \"{}\", this relay serves \"{}\" only",
                    auth.clientKey(), accepted.device().deviceId(), source, AuthStatus.OTHER_ORGANIZATION,
                    accepted.device().organizationId(), config.organization.get());
            reply.accept(new AuthResult(AuthStatus.OTHER_ORGANIZATION, "this relay serves another organization"));
            return Optional.empty();
        }
        if (byKey.size() >= config.maxClients && !byKey.containsKey(auth.clientKey())) {
            metrics.authenticated(AuthStatus.FULL);
            reply.accept(new AuthResult(AuthStatus.FULL, "relay at its client limit"));
            return Optional.empty();
        }
        long nowNanos = config.nanoTime.getAsLong();
        TokenBucket bucket = new TokenBucket(config.clientBytesPerSecond, config.clientBurstBytes, nowNanos);
        S session = factory.create(accepted.device(), bucket, nowNanos);
        S current = sameUdpSession(session);
        if (current != null) {
            // The same authentication again (a retransmission, or a replay from the client's address): the session
            // and its replay window stay, so replayed datagrams of it stay refused.
            session = current;
        } else {
            // Registered before the client hears OK, so a client that is told it is connected is reachable.
            register(session);
        }
        metrics.authenticated(AuthStatus.OK);
        reply.accept(new AuthResult(AuthStatus.OK, "", session.udpSessionId()));
        reply.accept(new ObservedAddress(session.transport(), session.observedAddress()));
        return Optional.of(session);
    }

    /** The registered UDP session that {@code fresh} duplicates (same address, key and session id), or null. */
    @SuppressWarnings("unchecked") // a UDP session duplicates only a UDP session, which is what S is then
    private <S extends ClientSession> S sameUdpSession(S fresh) {
        if (!(fresh instanceof UdpSession udp)) {
            return null;
        }
        UdpSession current = byUdpAddress.get(udp.observedAddress());
        boolean same = current != null && current.key().equals(udp.key())
                && current.udpSessionId() == udp.udpSessionId();
        return same ? (S) current : null;
    }

    private void register(ClientSession session) {
        if (session instanceof UdpSession udp) {
            UdpSession previousAtAddress = byUdpAddress.put(udp.observedAddress(), udp);
            if (previousAtAddress != null && !previousAtAddress.key().equals(udp.key())) {
                byKey.remove(previousAtAddress.key(), previousAtAddress);
            }
        }
        ClientSession previous = byKey.put(session.key(), session);
        if (previous != null && previous != session) {
            forget(previous);
            if (!(previous instanceof UdpSession old && old.observedAddress().equals(session.observedAddress()))) {
                previous.close(CloseReason.REPLACED, "authenticated again as " + session.transport());
            }
            config.events.sessionClosed(previous.device(), previous.transport(), Optional.of(CloseReason.REPLACED));
        }
        log.debug("session opened: {}", session);
        config.events.sessionOpened(session.device(), session.transport(), session.observedAddress());
    }

    /** The UDP session at {@code address}, if any. */
    UdpSession udpSession(InetSocketAddress address) {
        return byUdpAddress.get(address);
    }

    /** A frame from an authenticated client. */
    void onSessionFrame(ClientSession session, RelayFrame frame, int wireBytes) {
        if (!session.admit(wireBytes, config.nanoTime.getAsLong())) {
            dropped(DropReason.RATE_LIMITED, frame.type().name(), session);
            return;
        }
        switch (frame.type()) {
            case SEND_PACKET -> {
                SendPacket send = (SendPacket) frame;
                forward(session, send.destination(), new ReceivedPacket(session.key(), send.payload()),
                        send.payload().remaining());
            }
            case SEND_DISCO -> {
                SendDisco send = (SendDisco) frame;
                forward(session, send.destination(), new ReceivedDisco(session.key(), send.payload()),
                        send.payload().remaining());
            }
            case PING -> {
                DropReason dropped = session.deliver(new Pong(((Ping) frame).nonce()));
                if (dropped != null) {
                    dropped(dropped, "pong", session);
                }
            }
            case PONG -> {
                // Only refreshes liveness, which admit() did.
            }
            case CLIENT_HELLO, CLIENT_AUTH -> throw new IllegalStateException("handshake frames are routed earlier");
            default -> dropped(DropReason.UNEXPECTED_FRAME, frame.type().name(), session);
        }
    }

    private void forward(ClientSession from, RelayKey destination, RelayFrame frame, int payloadBytes) {
        ClientSession to = byKey.get(destination);
        if (to == null) {
            dropped(DropReason.NO_DESTINATION, destination.toString(), from);
            from.deliver(new PeerGone(destination));
            return;
        }
        if (!from.device().sameOrganization(to.device())) {
            // Answered like an absent destination, so a device learns nothing about other organizations' devices.
            dropped(DropReason.CROSS_ORGANIZATION, "to " + to + " of organization \"" + to.device().organizationId()
                    + "\"", from);
            from.deliver(new PeerGone(destination));
            return;
        }
        DropReason congestion = to.congestion();
        if (congestion != null) {
            dropped(congestion, "to " + to, from);
            return;
        }
        // Counted before sending, so a receiver holding the frame always finds it counted.
        metrics.forwarded(from.transport(), to.transport(), payloadBytes);
        to.send(frame);
    }

    /** The client's transport went away (TCP connection closed). */
    void onDisconnected(ClientSession session) {
        if (forget(session)) {
            log.debug("session ended by client: {}", session);
            config.events.sessionClosed(session.device(), session.transport(), Optional.empty());
        }
    }

    /** Ends a session from the relay side, telling the client why. */
    void close(ClientSession session, CloseReason reason, String detail) {
        if (forget(session)) {
            log.debug("closing {}: {} {}", session, reason, detail);
            session.close(reason, detail);
            config.events.sessionClosed(session.device(), session.transport(), Optional.of(reason));
        }
    }

    private boolean forget(ClientSession session) {
        boolean removed = byKey.remove(session.key(), session);
        if (session instanceof UdpSession udp) {
            removed |= byUdpAddress.remove(udp.observedAddress(), udp);
        }
        return removed;
    }

    /** Closes idle sessions and those whose certificate has expired. Run periodically. */
    void sweep() {
        long now = config.nanoTime.getAsLong();
        long idleNanos = config.idleTimeout.toNanos();
        Instant wallNow = config.clock.instant();
        for (ClientSession session : byKey.values()) {
            if (now - session.lastReceivedNanos() > idleNanos) {
                close(session, CloseReason.IDLE, "nothing received for " + config.idleTimeout.toSeconds() + " s");
            } else if (!wallNow.isBefore(session.device().notAfter())) {
                close(session, CloseReason.EXPIRED, "certificate expired at " + session.device().notAfter());
            }
        }
    }

    private void closeRevoked(Set<BigInteger> revoked) {
        for (ClientSession session : byKey.values()) {
            if (revoked.contains(session.device().serial())) {
                close(session, CloseReason.REVOKED, "certificate revoked");
            }
        }
    }

    /** Closes every session, telling each client the relay is going away. */
    void closeAll() {
        for (ClientSession session : byKey.values()) {
            close(session, CloseReason.SHUTDOWN, "relay shutting down");
        }
    }

    /** Makes a transport's session object once the device is known. */
    @FunctionalInterface
    interface SessionFactory<S extends ClientSession> {
        S create(VerifiedDevice device, TokenBucket bucket, long nowNanos);
    }
}
