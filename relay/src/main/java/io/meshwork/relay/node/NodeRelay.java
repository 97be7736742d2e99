package io.meshwork.relay.node;

import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.relay.NodeRelayService;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.relay.auth.RevocationList;
import io.meshwork.relay.auth.TrustAnchors;
import io.meshwork.relay.control.ControlException;
import io.meshwork.relay.control.ControlPlane;
import io.meshwork.relay.metrics.RelayMetrics;
import io.meshwork.relay.server.RelayConfig;
import io.meshwork.relay.server.RelayServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's relay for its own organization (docs/architecture.md, "Relay scopes"): the relay server of this module,
 * in the node's process, accepting only devices whose certificates name the node's organization, enrolled and kept
 * in the organization's relay list with the node's device credentials.
 *
 * <p>One thread ("node-relay") runs it: it enrolls (advertising the node's public address and the port), and only
 * once control admitted it does it listen; then it reports health every heartbeat control asked for and fetches the
 * revoked serials. Control refusing it (403: the device may not relay, or is revoked) stops the relay, says so once
 * in the log, and it asks again every {@link Timing#notAllowedRetry}; the node runs on either way. A heartbeat
 * answered 404 (an administrator removed it) enrolls it again. Closing it withdraws it from the list and stops it.
 */
final class NodeRelay implements NodeRelayService.Running {

    private static final Logger log = LoggerFactory.getLogger(NodeRelay.class);

    /** How long it waits before asking control again. */
    record Timing(Duration notAllowedRetry, Duration failureRetry, Duration addressRetry) {
        static final Timing DEFAULT = new Timing(Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(5));
    }

    private final NodeRelayService.Settings settings;
    private final ControlPlane control;
    private final Timing timing;
    private final RevocationList revocations = new RevocationList();
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "node-relay");
        thread.setDaemon(true);
        return thread;
    });
    /** Only the executor's thread changes these (and close, after the executor stopped); status reads it. */
    private volatile RelayServer server;
    private String relayId;
    private String advertised;
    private int heartbeatSeconds = 15;
    private boolean refusalLogged;
    private volatile NodeRelayService.Status status;
    private volatile boolean closed;

    NodeRelay(NodeRelayService.Settings settings, ControlPlane control, Timing timing) {
        this.settings = settings;
        this.control = control;
        this.timing = timing;
        this.status = new NodeRelayService.Status("starting", null, 0, 0, "enrolling with control");
    }

    void start() {
        executor.execute(this::step);
    }

    @Override
    public NodeRelayService.Status status() {
        NodeRelayService.Status current = status;
        RelayServer running = server;
        if (running != null && current.state().equals("relaying")) {
            return new NodeRelayService.Status(current.state(), current.address(),
                    running.clientCount(Transport.UDP), running.clientCount(Transport.TCP), current.detail());
        }
        return current;
    }

    private void step() {
        if (closed) {
            return;
        }
        Duration next;
        try {
            next = server == null ? enroll() : beat();
        } catch (RuntimeException e) {
            log.warn("relay service: {}", e.toString());
            next = timing.failureRetry();
        }
        if (!closed) {
            executor.schedule(this::step, next.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Enrolls, then listens; answers when to take the next step. */
    private Duration enroll() {
        Optional<InetAddress> address = settings.publicAddress().get();
        if (address.isEmpty()) {
            status = new NodeRelayService.Status("starting", null, 0, 0,
                    "waiting for this node's public address (give --relay-public-address to skip the wait)");
            return timing.addressRetry();
        }
        String at = IpLiteral.format(new InetSocketAddress(address.get(), settings.port()));
        ControlPlane.Enrollment enrollment;
        try {
            enrollment = control.register(new ControlPlane.Advertisement(at, at, List.of()));
        } catch (ControlException e) {
            return refused(e, "enrolling with control");
        }
        TrustAnchors anchors;
        try {
            anchors = TrustAnchors.fromPem(enrollment.caCertificatePem());
        } catch (CertificateException e) {
            log.error("not relaying: control sent an unreadable CA certificate: {}", e.getMessage());
            status = new NodeRelayService.Status("failed", null, 0, 0, "control sent an unreadable CA certificate");
            withdrawQuietly();
            return timing.failureRetry();
        }
        InetSocketAddress bind = new InetSocketAddress(settings.port());
        try {
            revocations.replace(control.revokedSerials(enrollment.relayId()));
        } catch (ControlException e) {
            log.debug("relay service: revocations not fetched yet: {}", e.getMessage());
        }
        try {
            server = RelayServer.start(RelayConfig.builder(anchors)
                    .udp(bind)
                    .tcp(bind)
                    .revocations(revocations)
                    .organization(settings.organizationId())
                    .build(), new RelayMetrics());
        } catch (IOException | RuntimeException e) {
            log.error("not relaying: cannot listen on UDP and TCP port {}: {}", settings.port(), e.getMessage());
            status = new NodeRelayService.Status("failed", null, 0, 0,
                    "cannot listen on port " + settings.port() + ": " + e.getMessage());
            withdrawQuietly();
            return timing.notAllowedRetry();
        }
        relayId = enrollment.relayId();
        advertised = at;
        heartbeatSeconds = Math.max(1, enrollment.heartbeatSeconds());
        refusalLogged = false;
        status = new NodeRelayService.Status("relaying", at, 0, 0,
                "relaying for organization " + settings.organizationId() + " as relay " + relayId);
        log.info("relaying for organization {} at {} (relay {}): only its devices are accepted",
                settings.organizationId(), at, relayId);
        return Duration.ofSeconds(heartbeatSeconds);
    }

    /** Reports health and fetches revocations; moves the advertisement when the public address changed. */
    private Duration beat() {
        try {
            control.reportHealth(relayId, new ControlPlane.Health(server.clientCount(Transport.UDP),
                    server.clientCount(Transport.TCP), true));
            revocations.replace(control.revokedSerials(relayId));
        } catch (ControlException e) {
            if (e.status() == 404) {
                log.info("relay service: control no longer lists this relay; enrolling again");
                return reenroll();
            }
            if (e.status() == 403 || e.status() == 401) {
                stopServer();
                return refused(e, "reporting to control");
            }
            log.warn("relay service: heartbeat failed: {}", e.getMessage());
            return Duration.ofSeconds(heartbeatSeconds);
        }
        Optional<InetAddress> address = settings.publicAddress().get();
        if (address.isPresent() && !IpLiteral.format(new InetSocketAddress(address.get(), settings.port()))
                .equals(advertised)) {
            log.info("relay service: this node's public address is now {}; advertising it", address.get()
                    .getHostAddress());
            return reenroll();
        }
        return Duration.ofSeconds(heartbeatSeconds);
    }

    /** Enrolls again with the relay running (it keeps its id). */
    private Duration reenroll() {
        try {
            Optional<InetAddress> address = settings.publicAddress().get();
            String at = address.map(ip -> IpLiteral.format(new InetSocketAddress(ip, settings.port())))
                    .orElse(advertised);
            ControlPlane.Enrollment enrollment = control.register(new ControlPlane.Advertisement(at, at, List.of()));
            relayId = enrollment.relayId();
            advertised = at;
            heartbeatSeconds = Math.max(1, enrollment.heartbeatSeconds());
            status = new NodeRelayService.Status("relaying", at, 0, 0,
                    "relaying for organization " + settings.organizationId() + " as relay " + relayId);
            return Duration.ofSeconds(heartbeatSeconds);
        } catch (ControlException e) {
            if (e.status() == 403 || e.status() == 401) {
                stopServer();
                return refused(e, "enrolling with control");
            }
            log.warn("relay service: enrolling again failed: {}", e.getMessage());
            return timing.failureRetry();
        }
    }

    /** Control refused or failed: says why (a refusal once), and when it asks again. */
    private Duration refused(ControlException e, String doing) {
        if (e.status() == 403 || e.status() == 401) {
            String why = e.status() == 401 ? "control does not know this device any more"
                    : "control has not allowed this device to relay (or it is not active); an administrator allows "
                            + "it with PATCH /api/v1/devices/" + settings.deviceId() + " {\"relayAllowed\": true}";
            if (!refusalLogged) {
                log.warn("not relaying: {}; working as a node only, asking again every {} s", why,
                        timing.notAllowedRetry().toSeconds());
                refusalLogged = true;
            }
            log.debug("relay service: {} refused: {}", doing, e.getMessage());
            status = new NodeRelayService.Status("not allowed", null, 0, 0, why);
            return timing.notAllowedRetry();
        }
        log.warn("not relaying yet: {} failed: {}", doing, e.getMessage());
        status = new NodeRelayService.Status("starting", null, 0, 0, doing + " failed: " + e.getMessage());
        return timing.failureRetry();
    }

    private void stopServer() {
        RelayServer running = server;
        server = null;
        relayId = null;
        advertised = null;
        if (running != null) {
            running.close();
        }
    }

    private void withdrawQuietly() {
        try {
            control.withdraw();
        } catch (ControlException e) {
            log.debug("relay service: withdrawing from control failed: {}", e.getMessage());
        }
    }

    /** Withdraws the relay from its organization's list (when it was listed) and stops it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (server != null) {
            withdrawQuietly();
            stopServer();
            log.info("relay service stopped and withdrawn from the organization's relay list");
        }
        status = new NodeRelayService.Status("stopped", null, 0, 0, "stopped");
    }
}
