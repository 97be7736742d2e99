package io.meshwork.node.relay;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.ObservedAddress;
import io.meshwork.protocol.relay.RelayFrame.PeerGone;
import io.meshwork.protocol.relay.RelayFrame.Ping;
import io.meshwork.protocol.relay.RelayFrame.Pong;
import io.meshwork.protocol.relay.RelayFrame.ReceivedDisco;
import io.meshwork.protocol.relay.RelayFrame.ReceivedPacket;
import io.meshwork.protocol.relay.RelayFrame.SendDisco;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayFrameException;
import io.meshwork.protocol.relay.RelayHandshake;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.UdpSessionKey;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's connection to one relay (docs/architecture.md, "Relay"). It tries UDP first, through the node's own
 * {@link PacketTransport} so the relay sees (and reports back) the same public mapping WireGuard traffic uses;
 * when UDP gets no answer within {@link RelayClientConfig#udpAnswerTimeout()} it falls back to TCP, and from
 * there retries UDP every {@link RelayClientConfig#udpUpgradeInterval()}, moving back to it (without a gap: the
 * TCP session stays up until UDP is authenticated) once UDP works again. Failures and lost connections are
 * retried with exponential backoff; {@link #status()} tells which transport is in use and the address the relay
 * observed. Over UDP every frame after the handshake is sealed with the session key both ends derive from it
 * ({@link UdpSessionKey}): the relay's OK names the session it opened, and the client seals with that one.
 *
 * <p>Connection logic runs on one private thread, or on the executor of a {@link RelayClientRuntime} (the network
 * simulation runs it on virtual time); {@link #sendPacket} and {@link #sendDisco} may be called from any thread
 * and never block (frames are dropped and counted while disconnected or when the TCP queue is full).
 *
 * <p>Over 500 lines on purpose: UDP and TCP sessions hand over to each other without a gap, and keeping both
 * transports' state, the handover and the backoff in one place is what lets a reader check that no frame path is
 * left without a session; the frame codec and the TCP socket are elsewhere ({@code RelayFrameCodec},
 * {@link RelayStreamConnector}).
 */
public final class RelayClient implements RelayLink {

    private static final Logger log = LoggerFactory.getLogger(RelayClient.class);
    /** Handshakes answered while waiting for the relay's OK (hellos are repeated until one is answered). */
    private static final int MAX_OFFERED_UDP_SESSIONS = 8;

    private final RelayAddress relay;
    /** Replaced by {@link #renewCredential} on the executor; read by the handshake there. */
    private volatile RelayCredential credential;
    private final PacketTransport udp;
    private final RelayListener listener;
    private final RelayClientConfig config;
    private final ScheduledExecutorService executor;
    /** Whether {@link #executor} is this client's own thread, to be shut down on close. */
    private final boolean ownsExecutor;
    private final LongSupplier nanoTime;
    private final Random random;
    private final RelayStreamConnector streams;
    private final Backoff backoff;
    private final AtomicLong droppedInbound = new AtomicLong();
    private final AtomicLong droppedOutbound = new AtomicLong();

    // Read from any thread, written on the executor.
    private volatile RelayStatus status;
    private volatile Transport activeTransport;
    /** The transport of the last session the relay confirmed; null before the first. */
    private volatile Transport lastTransport;
    private volatile RelayStreamConnector.Stream tcp;
    private volatile long lastHeardNanos;
    /** When a frame was last sent to the relay (packets, disco, pings). */
    private volatile long lastSentNanos;
    /** The UDP session frames are sealed with, and its next counter; null until the relay opened one. */
    private volatile UdpSealer udpSealer;

    // Executor thread only.
    /** Keys of the UDP sessions this client asked for and the relay has not confirmed, by session id. */
    private final Map<Long, UdpSessionKey> offeredUdpSessions = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, UdpSessionKey> eldest) {
            return size() > MAX_OFFERED_UDP_SESSIONS;
        }
    };
    private int failures;
    private long attemptDeadlineNanos;
    private ScheduledFuture<?> timer;
    private ScheduledFuture<?> upgradeTimer;
    private boolean upgrading;
    /** A connected UDP client authenticating again with a renewed credential ({@link #renewCredential}). */
    private boolean renewingUdp;
    /** Whether the next attempt goes straight to TCP ({@link RelayClientConfig#tcpFirst}, first attempt only). */
    private boolean tcpFirst;
    private boolean closed;

    private RelayClient(RelayAddress relay, RelayCredential credential, PacketTransport udp, RelayListener listener,
            RelayClientConfig config, Optional<RelayClientRuntime> runtime) {
        this.relay = relay;
        this.credential = credential;
        this.udp = udp;
        this.listener = listener;
        this.config = config;
        this.backoff = new Backoff(config.initialBackoff(), config.maxBackoff());
        this.tcpFirst = config.tcpFirst() && relay.tcp().isPresent();
        this.status = new RelayStatus(RelayStatus.State.CONNECTING_UDP, Optional.empty(), Optional.empty(),
                Optional.empty(), "starting");
        this.ownsExecutor = runtime.isEmpty();
        this.executor = runtime.map(RelayClientRuntime::executor).orElseGet(() ->
                Executors.newSingleThreadScheduledExecutor(runnable -> {
                    Thread thread = new Thread(runnable,
                            "relay-client-" + credential.publicKey().toBase64().substring(0, 8));
                    thread.setDaemon(true);
                    return thread;
                }));
        this.nanoTime = runtime.<LongSupplier>map(RelayClientRuntime::nanoTime).orElse(System::nanoTime);
        // Silence counts from the start: a relay that never answers is as silent as one that stopped.
        this.lastHeardNanos = nanoTime.getAsLong();
        this.lastSentNanos = lastHeardNanos;
        this.random = runtime.map(RelayClientRuntime::random).orElseGet(Random::new);
        this.streams = runtime.flatMap(RelayClientRuntime::streams).orElseGet(() -> new TcpRelayConnector(
                relay.tls(), config.tcpConnectTimeout(), config.tcpSendQueueFrames(), droppedInbound));
    }

    /**
     * Starts connecting. {@code udp} is the node's shared socket: the client registers for
     * {@link DatagramKind#RELAY} datagrams on it. It may be null when the relay address has no UDP part.
     */
    public static RelayClient start(RelayAddress relay, RelayCredential credential, PacketTransport udp,
            RelayListener listener, RelayClientConfig config) {
        return start(relay, credential, udp, listener, config, Optional.empty());
    }

    /** As the other {@code start}, with connection logic and timers on {@code runtime} instead of a thread. */
    public static RelayClient start(RelayAddress relay, RelayCredential credential, PacketTransport udp,
            RelayListener listener, RelayClientConfig config, RelayClientRuntime runtime) {
        return start(relay, credential, udp, listener, config, Optional.of(runtime));
    }

    private static RelayClient start(RelayAddress relay, RelayCredential credential, PacketTransport udp,
            RelayListener listener, RelayClientConfig config, Optional<RelayClientRuntime> runtime) {
        if (relay.udp().isPresent() && udp == null) {
            throw new IllegalArgumentException("a UDP relay address needs the node's packet transport");
        }
        RelayClient client = new RelayClient(relay, credential, udp, listener, config, runtime);
        if (relay.udp().isPresent()) {
            udp.register(DatagramKind.RELAY, client::onUdpDatagram);
        }
        client.executor.execute(client::beginAttempt);
        return client;
    }

    @Override
    public RelayStatus status() {
        return status;
    }

    public RelayKey publicKey() {
        return credential.publicKey();
    }

    /** Frames from the relay that could not be decoded or came from elsewhere. */
    public long droppedInbound() {
        return droppedInbound.get();
    }

    /** Sends that were dropped: not connected, or the TCP send queue was full. */
    public long droppedOutbound() {
        return droppedOutbound.get();
    }

    /**
     * Authenticates with {@code renewed} from now on: a renewed certificate for the same key (docs/architecture.md,
     * "Certificate renewal"). A connected client starts its handshake over at once, so that the relay holds the new
     * certificate well before control revokes the old one; the relay's new session replaces the old one for the
     * key. One that is connecting or backing off uses it from its next challenge on.
     *
     * @throws IllegalArgumentException when {@code renewed} is for another key
     */
    @Override
    public void renewCredential(RelayCredential renewed) {
        if (!renewed.publicKey().equals(credential.publicKey())) {
            throw new IllegalArgumentException("a renewed credential must be for the same key");
        }
        post(() -> {
            if (closed) {
                return;
            }
            credential = renewed;
            if (status.state() != RelayStatus.State.CONNECTED) {
                return;
            }
            log.debug("authenticating to relay with the renewed certificate over {}", activeTransport);
            if (activeTransport == Transport.UDP) {
                // In band: the session stays up and its sealer in use until the relay confirms the new one, which
                // replaces it at the relay (onAuthResult). A lost hello is sent again twice; should all be lost,
                // the relay ends the old session when the replaced certificate is revoked, and the client then
                // reconnects with the new one.
                renewingUdp = true;
                sendUdpHello();
                for (long retry = 1; retry <= 2; retry++) {
                    executor.schedule(() -> {
                        if (renewingUdp && !closed) {
                            sendUdpHello();
                        }
                    }, retry * config.udpHelloInterval().toMillis(), TimeUnit.MILLISECONDS);
                }
            } else {
                // One hello per TCP connection: a new connection, straight over TCP (UDP did not work before).
                cancelTimer();
                cancelUpgrade();
                activeTransport = null;
                closeTcp();
                startTcp();
            }
        });
    }

    /** Sends a WireGuard datagram to the device holding {@code destination}; false when it was dropped. */
    @Override
    public boolean sendPacket(RelayKey destination, ByteBuffer payload) {
        return send(new SendPacket(destination, payload));
    }

    /** Sends a node coordination message to {@code destination}; false when it was dropped. */
    @Override
    public boolean sendDisco(RelayKey destination, ByteBuffer payload) {
        return send(new SendDisco(destination, payload));
    }

    /** The transport of the last session the relay confirmed, connected now or not; empty before the first. */
    @Override
    public Optional<Transport> lastTransport() {
        return Optional.ofNullable(lastTransport);
    }

    /** How long since the relay last delivered a frame (a packet, disco message, pong or handshake answer). */
    @Override
    public Duration silence() {
        return Duration.ofNanos(Math.max(0, nanoTime.getAsLong() - lastHeardNanos));
    }

    /** Whether something was sent to the relay since it last delivered a frame: an answer is pending. */
    @Override
    public boolean awaitingRelay() {
        return lastSentNanos - lastHeardNanos > 0;
    }

    private boolean send(RelayFrame frame) {
        lastSentNanos = nanoTime.getAsLong();
        Transport transport = activeTransport;
        UdpSealer sealer = udpSealer;
        if (transport == Transport.UDP && sealer != null) {
            udp.send(ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(sealer.seal(frame))), relay.udp().orElseThrow());
            return true;
        }
        RelayStreamConnector.Stream connection = tcp;
        if (transport == Transport.TCP && connection != null && connection.send(frame)) {
            return true;
        }
        droppedOutbound.incrementAndGet();
        return false;
    }

    // ---- inbound, on I/O threads

    private void onUdpDatagram(ByteBuffer datagram, InetSocketAddress sender) {
        if (!sender.equals(relay.udp().orElseThrow())) {
            droppedInbound.incrementAndGet();
            return;
        }
        RelayFrame frame;
        try {
            frame = RelayFrameCodec.decodeDatagram(datagram);
        } catch (RelayFrameException e) {
            droppedInbound.incrementAndGet();
            log.debug("dropped datagram from relay {}: {}", sender, e.getMessage());
            return;
        }
        onFrame(frame, Transport.UDP, null);
    }

    private void onFrame(RelayFrame frame, Transport via, RelayStreamConnector.Stream connection) {
        lastHeardNanos = nanoTime.getAsLong();
        if (frame instanceof ReceivedPacket packet) {
            listener.onPacket(packet.source(), packet.payload());
        } else if (frame instanceof ReceivedDisco disco) {
            listener.onDisco(disco.source(), disco.payload());
        } else {
            post(() -> onControlFrame(frame, via, connection));
        }
    }

    // ---- connection logic, on the executor

    /** Runs {@code task} on the executor; once the client is closed there is nothing left to do with events. */
    private boolean post(Runnable task) {
        try {
            executor.execute(task);
            return true;
        } catch (RejectedExecutionException closedAlready) {
            log.trace("event after close ignored");
            return false;
        }
    }

    private void beginAttempt() {
        if (closed) {
            return;
        }
        cancelTimer();
        cancelUpgrade();
        renewingUdp = false;
        // The offered sessions stay: an OK for one may still be on its way (after a TCP to UDP handover, say).
        udpSealer = null;
        if (tcpFirst) {
            tcpFirst = false;
            startTcp();
        } else if (relay.udp().isPresent()) {
            startUdp();
        } else {
            startTcp();
        }
    }

    private void startUdp() {
        setStatus(RelayStatus.State.CONNECTING_UDP, Optional.empty(), "hello sent to " + relay.udp().get());
        attemptDeadlineNanos = nanoTime.getAsLong() + config.udpAnswerTimeout().toNanos();
        sendUdpHello();
        timer = executor.scheduleAtFixedRate(this::udpHandshakeTick, config.udpHelloInterval().toMillis(),
                config.udpHelloInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void udpHandshakeTick() {
        if (status.state() != RelayStatus.State.CONNECTING_UDP) {
            return;
        }
        if (nanoTime.getAsLong() - attemptDeadlineNanos > 0) {
            cancelTimer();
            if (relay.tcp().isPresent()) {
                log.debug("no UDP answer from relay {} within {}: trying TCP", relay.udp().get(),
                        config.udpAnswerTimeout());
                startTcp();
            } else {
                fail("no UDP answer from relay within " + config.udpAnswerTimeout().toMillis() + " ms");
            }
            return;
        }
        // A lost hello, challenge or auth is repaired by starting the handshake over.
        sendUdpHello();
    }

    private void sendUdpHello() {
        byte[] hello = RelayFrameCodec.encodeDatagram(new ClientHello(RelayHandshake.VERSION, credential.publicKey()),
                RelayHandshake.MIN_UDP_HELLO_BYTES);
        udp.send(ByteBuffer.wrap(hello), relay.udp().orElseThrow());
    }

    private void startTcp() {
        InetSocketAddress address = relay.tcp().orElseThrow();
        setStatus(RelayStatus.State.CONNECTING_TCP, Optional.empty(), "connecting to " + address);
        streams.connect(address, new StreamAttempt(address));
        timer = executor.schedule(() -> {
            if (status.state() == RelayStatus.State.CONNECTING_TCP) {
                fail("TCP handshake with " + address + " did not finish in time");
            }
        }, 2 * config.tcpConnectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One TCP connection attempt's events, moved onto the executor. */
    private final class StreamAttempt implements RelayStreamConnector.Events {
        private final InetSocketAddress address;
        private volatile RelayStreamConnector.Stream stream;

        StreamAttempt(InetSocketAddress address) {
            this.address = address;
        }

        @Override
        public void opened(RelayStreamConnector.Stream opened) {
            stream = opened;
            if (!post(() -> onTcpConnected(opened))) {
                opened.close();
            }
        }

        @Override
        public void failed(IOException error) {
            post(() -> {
                if (status.state() == RelayStatus.State.CONNECTING_TCP && tcp == null) {
                    fail("TCP connect to " + address + " failed: " + error.getMessage());
                }
            });
        }

        @Override
        public void received(RelayFrame frame) {
            onFrame(frame, Transport.TCP, stream);
        }

        @Override
        public void closed() {
            post(() -> onTcpClosed(stream));
        }
    }

    private void onTcpConnected(RelayStreamConnector.Stream connection) {
        if (closed || status.state() != RelayStatus.State.CONNECTING_TCP || tcp != null) {
            connection.close();
            return;
        }
        tcp = connection;
        connection.send(new ClientHello(RelayHandshake.VERSION, credential.publicKey()));
    }

    private void onTcpClosed(RelayStreamConnector.Stream connection) {
        if (connection == null || connection != tcp) {
            return;
        }
        if (upgrading) {
            // The relay dropped TCP because our UDP session replaced it; finish the UDP handshake from here
            // (with its usual timeout and fallback).
            tcp = null;
            activeTransport = null;
            beginAttempt();
            return;
        }
        fail("TCP connection to relay closed");
    }

    private void onControlFrame(RelayFrame frame, Transport via, RelayStreamConnector.Stream connection) {
        if (closed || (via == Transport.TCP && connection != tcp)) {
            return;
        }
        switch (frame.type()) {
            case SERVER_CHALLENGE -> onChallenge((ServerChallenge) frame, via);
            case AUTH_RESULT -> onAuthResult((AuthResult) frame, via);
            case OBSERVED_ADDRESS -> {
                ObservedAddress observed = (ObservedAddress) frame;
                status = new RelayStatus(status.state(), status.transport(), Optional.of(observed.address()),
                        status.lastRefusal(), status.detail());
                listener.onStatus(status);
            }
            case PEER_GONE -> listener.onPeerGone(((PeerGone) frame).peer());
            case PING -> send(new Pong(((Ping) frame).nonce()));
            case PONG -> {
                // Liveness was noted on arrival.
            }
            case GOODBYE -> {
                Goodbye goodbye = (Goodbye) frame;
                if (upgrading && via == Transport.TCP && goodbye.reason() == RelayFrame.CloseReason.REPLACED) {
                    // Our own UDP session replaced this one; its OK is on the way.
                    return;
                }
                fail("relay ended the session: " + goodbye.reason() + " " + goodbye.detail());
            }
            default -> droppedInbound.incrementAndGet();
        }
    }

    private boolean connectingOver(Transport via) {
        return (via == Transport.UDP && status.state() == RelayStatus.State.CONNECTING_UDP)
                || (via == Transport.UDP && renewingUdp && status.state() == RelayStatus.State.CONNECTED
                        && activeTransport == Transport.UDP)
                || (via == Transport.TCP && status.state() == RelayStatus.State.CONNECTING_TCP)
                || (via == Transport.UDP && onTcpWithUdpToTry());
    }

    private boolean onTcpWithUdpToTry() {
        return status.state() == RelayStatus.State.CONNECTED && activeTransport == Transport.TCP
                && relay.udp().isPresent();
    }

    private void onChallenge(ServerChallenge challenge, Transport via) {
        if (!connectingOver(via)) {
            return;
        }
        upgrading = onTcpWithUdpToTry();
        ByteBuffer certificate = credential.certificate();
        Optional<byte[]> proof = RelayHandshake.prove(credential.keys(), challenge.serverKey(),
                challenge.challenge(), certificate);
        if (proof.isEmpty()) {
            fail("relay offered an invalid key");
            return;
        }
        ClientAuth auth = new ClientAuth(credential.publicKey(), challenge.challenge(), ByteBuffer.wrap(proof.get()),
                certificate);
        if (via == Transport.UDP) {
            // The proof succeeded, so the relay's key is not a low-order point and a session key exists.
            RelayHandshake.clientSessionKey(credential.keys(), challenge.serverKey(), challenge.challenge())
                    .ifPresent(key -> offeredUdpSessions.put(key.id(), key));
            udp.send(ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(auth)), relay.udp().orElseThrow());
        } else {
            tcp.send(auth);
        }
    }

    private void onAuthResult(AuthResult result, Transport via) {
        if (result.status() == AuthStatus.OK) {
            UdpSessionKey sessionKey = via == Transport.UDP ? offeredUdpSessions.get(result.udpSessionId()) : null;
            if (via == Transport.UDP && sessionKey == null) {
                // Not a session this client asked for: nothing to seal with, so nothing changes.
                droppedInbound.incrementAndGet();
                log.debug("relay confirmed UDP session {} that this client did not offer",
                        Long.toUnsignedString(result.udpSessionId(), 16));
                return;
            }
            if (via == Transport.UDP && activeTransport == Transport.UDP && status.state() == RelayStatus.State.CONNECTED) {
                UdpSealer current = udpSealer;
                if (current == null || current.key.id() != sessionKey.id()) {
                    // A later authentication of ours replaced the session at the relay: seal with its key now.
                    udpSealer = new UdpSealer(sessionKey);
                }
                renewingUdp = false;
                return;
            }
            if (!connectingOver(via)) {
                return;
            }
            if (via == Transport.UDP) {
                udpSealer = new UdpSealer(sessionKey);
            }
            cancelTimer();
            cancelUpgrade();
            failures = 0;
            activeTransport = via;
            lastTransport = via;
            if (via == Transport.UDP) {
                closeTcp();
            }
            lastHeardNanos = nanoTime.getAsLong();
            status = new RelayStatus(RelayStatus.State.CONNECTED, Optional.of(via), status.observedAddress(),
                    Optional.empty(), "connected over " + via);
            log.info("relay {} connected over {}", via == Transport.UDP ? relay.udp().get() : relay.tcp().get(), via);
            listener.onStatus(status);
            long keepalive = config.keepaliveInterval().toMillis();
            timer = executor.scheduleAtFixedRate(this::keepaliveTick, keepalive, keepalive, TimeUnit.MILLISECONDS);
            if (onTcpWithUdpToTry()) {
                long upgrade = config.udpUpgradeInterval().toMillis();
                upgradeTimer = executor.scheduleAtFixedRate(this::sendUdpHello, upgrade, upgrade,
                        TimeUnit.MILLISECONDS);
            }
        } else if (result.status() == AuthStatus.UNAUTHENTICATED) {
            // The relay lost our session (it restarted, or our NAT mapping changed): authenticate again now.
            if (status.state() == RelayStatus.State.CONNECTED && via == activeTransport) {
                log.debug("relay forgot the session; authenticating again");
                activeTransport = null;
                beginAttempt();
            }
        } else if (via == Transport.UDP && onTcpWithUdpToTry()) {
            // A refused upgrade leaves the working TCP session alone.
            upgrading = false;
            log.debug("relay refused the UDP upgrade: {} {}", result.status(), result.reason());
        } else if (connectingOver(via)) {
            status = new RelayStatus(status.state(), status.transport(), status.observedAddress(),
                    Optional.of(result.status()), status.detail());
            fail("relay refused: " + result.status() + " " + result.reason());
        }
    }

    private void keepaliveTick() {
        if (Duration.ofNanos(nanoTime.getAsLong() - lastHeardNanos).compareTo(config.deadAfter()) > 0) {
            fail("relay silent for " + config.deadAfter().toSeconds() + " s");
            return;
        }
        send(new Ping(random.nextLong()));
    }

    private void fail(String reason) {
        if (closed) {
            return;
        }
        cancelTimer();
        cancelUpgrade();
        activeTransport = null;
        udpSealer = null;
        offeredUdpSessions.clear();
        closeTcp();
        failures++;
        Duration delay = backoff.delay(failures, random.nextDouble());
        log.debug("relay connection failed ({}); retrying in {} ms", reason, delay.toMillis());
        setStatus(RelayStatus.State.BACKING_OFF, Optional.empty(), reason);
        timer = executor.schedule(this::beginAttempt, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void setStatus(RelayStatus.State state, Optional<Transport> transport, String detail) {
        status = new RelayStatus(state, transport, status.observedAddress(), status.lastRefusal(), detail);
        listener.onStatus(status);
    }

    private void closeTcp() {
        RelayStreamConnector.Stream connection = tcp;
        tcp = null;
        if (connection != null) {
            connection.close();
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void cancelUpgrade() {
        upgrading = false;
        if (upgradeTimer != null) {
            upgradeTimer.cancel(false);
            upgradeTimer = null;
        }
    }

    /** One UDP session's key and the counter of the next frame sealed with it. */
    private static final class UdpSealer {
        private final UdpSessionKey key;
        private final AtomicLong nextCounter = new AtomicLong();

        UdpSealer(UdpSessionKey key) {
            this.key = key;
        }

        RelayFrame.Sealed seal(RelayFrame frame) {
            return key.seal(nextCounter.getAndIncrement(), frame);
        }
    }

    /**
     * Disconnects and stops retrying; the packet transport stays open (it is the node's). On a
     * {@link RelayClientRuntime} the disconnect is queued on its executor and not waited for.
     */
    @Override
    public void close() {
        Runnable disconnect = () -> {
            closed = true;
            cancelTimer();
            cancelUpgrade();
            activeTransport = null;
            closeTcp();
            setStatus(RelayStatus.State.CLOSED, Optional.empty(), "closed");
        };
        if (relay.udp().isPresent()) {
            udp.unregister(DatagramKind.RELAY);
        }
        if (!ownsExecutor) {
            post(disconnect);
            return;
        }
        try {
            executor.submit(disconnect).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("closing relay client: {}", e.toString());
        }
        executor.shutdownNow();
    }
}
