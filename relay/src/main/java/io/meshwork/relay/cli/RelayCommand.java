package io.meshwork.relay.cli;

import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.stun.StunServer;
import io.meshwork.protocol.stun.StunServerAddresses;
import io.meshwork.protocol.tls.CertificatePin;
import io.meshwork.relay.auth.RevocationFile;
import io.meshwork.relay.auth.RevocationList;
import io.meshwork.relay.auth.TrustAnchors;
import io.meshwork.relay.control.ControlException;
import io.meshwork.relay.control.ControlPlane;
import io.meshwork.relay.control.HttpControlPlane;
import io.meshwork.relay.control.RelayRegistration;
import io.meshwork.relay.metrics.MetricsHttpServer;
import io.meshwork.relay.metrics.RelayMetrics;
import io.meshwork.relay.server.RelayConfig;
import io.meshwork.relay.server.RelayServer;
import io.meshwork.relay.server.TlsCertificatePin;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshwork relay}: run a relay until stopped (SIGTERM or Ctrl-C). */
@Command(
        name = "relay",
        mixinStandardHelpOptions = true,
        description = {
            "Run a relay for devices that cannot reach each other directly.",
            "It forwards WireGuard datagrams it cannot decrypt between enrolled devices, over UDP and TCP (TLS",
            "optional), answers STUN on its UDP port and, with --stun, on port 3478 (RFC 5780 with two IPs).",
            "Devices are checked against the control CA: from control (--control, --token) or a file (--ca).",
            "Prints 'relay ready ...' once listening.",
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:stopped on request",
            "1:could not start: a listener could not bind, control refused, the CA could not be read",
            "2:usage error",
        })
public final class RelayCommand implements Callable<Integer> {

    public static final int EXIT_STOPPED = 0;
    public static final int EXIT_START_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    static final String TOKEN_ENVIRONMENT = "MESHWORK_RELAY_TOKEN";
    /** Source addresses with an answer budget at once; the least recently seen is forgotten past this. */
    private static final int MAX_ANSWER_SOURCES = 65_536;

    @Spec
    CommandSpec spec;

    @Option(names = "--control", paramLabel = "URL", description = "Control's base URL; the relay enrolls there.")
    URI control;

    @Option(names = "--control-pin", paramLabel = "sha256:HEX", description = "Trust exactly the control certificate "
            + "with this pin (env MESHWORK_CONTROL_PIN). Without one, an https URL is checked against the JDK's "
            + "trust store.")
    String controlPin;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "Relay enrollment token from the admin (or env " + TOKEN_ENVIRONMENT + ").")
    String token;

    @Option(names = "--ca", paramLabel = "FILE", description = "Control CA certificate(s), PEM; needed without --control.")
    Path caFile;

    @Option(names = "--revoked", paramLabel = "FILE",
            description = "Revoked certificate serials (hex, one per line), re-read when it changes.")
    Path revokedFile;

    @Option(names = "--udp", paramLabel = "HOST:PORT", converter = HostPortConverter.class, defaultValue = "0.0.0.0:3340",
            description = "UDP listener (relay frames and STUN). Default: ${DEFAULT-VALUE}.")
    InetSocketAddress udp;

    @Option(names = "--tcp", paramLabel = "HOST:PORT", converter = HostPortConverter.class, defaultValue = "0.0.0.0:3340",
            description = "TCP listener. Default: ${DEFAULT-VALUE}.")
    InetSocketAddress tcp;

    @Option(names = "--no-udp", description = "Do not listen on UDP.")
    boolean noUdp;

    @Option(names = "--no-tcp", description = "Do not listen on TCP.")
    boolean noTcp;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "TLS certificate chain (PEM) for the TCP listener.")
    Path tlsCertificate;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "TLS private key (PKCS#8 PEM) for the TCP listener.")
    Path tlsKey;

    @Option(names = "--stun", paramLabel = "IP[,IP2]", split = ",",
            description = "Also run a STUN server on these IPs (two IPs: RFC 5780 mode).")
    List<InetAddress> stunIps = new ArrayList<>();

    @Option(names = "--stun6", paramLabel = "IPV6",
            description = "Also answer STUN Binding requests on this IPv6 address at --stun-port (one socket, no "
                    + "RFC 5780 alternate), so that nodes learn their IPv6 reflexive endpoints; advertised with the "
                    + "--stun servers.")
    InetAddress stun6Ip;

    @Option(names = "--stun-port", defaultValue = "3478", description = "Port of the --stun server. Default: ${DEFAULT-VALUE}.")
    int stunPort;

    @Option(names = "--metrics", paramLabel = "HOST:PORT", converter = HostPortConverter.class,
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics.")
    InetSocketAddress metricsAddress;

    @Option(names = "--public-address", paramLabel = "IP",
            description = "The address to advertise to control. Default: the listeners' addresses.")
    InetAddress publicAddress;

    @Option(names = "--client-rate", paramLabel = "BYTES", defaultValue = "67108864",
            description = "Per-client sustained rate, bytes/s sent to the relay. Default: ${DEFAULT-VALUE}.")
    long clientRate;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "Close sessions silent this long. Default: ${DEFAULT-VALUE}.")
    long idleSeconds;

    @Option(names = "--max-pending-per-source", paramLabel = "N", defaultValue = "64",
            description = "Unauthenticated TCP connections allowed per source IP; more are closed. Default: ${DEFAULT-VALUE}.")
    int maxPendingPerSource;

    @Option(names = "--max-pending", paramLabel = "N", defaultValue = "4096",
            description = "Unauthenticated TCP connections allowed in total; more are closed. Default: ${DEFAULT-VALUE}.")
    int maxPending;

    @Option(names = "--answer-rate", paramLabel = "PER_SECOND", defaultValue = "100",
            description = "STUN and handshake answers per second per source IP (burst twice that). Default: ${DEFAULT-VALUE}.")
    long answerRate;

    /** --control-pin (or MESHWORK_CONTROL_PIN) as read, null without one. */
    private CertificatePin pin;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String enrollmentToken = token != null ? token : System.getenv(TOKEN_ENVIRONMENT);
        if (control == null && caFile == null) {
            err.println("relay: give --ca FILE, or --control URL with an enrollment token");
            return EXIT_USAGE;
        }
        if (control != null && (enrollmentToken == null || enrollmentToken.isBlank())) {
            err.println("relay: --control needs --token or " + TOKEN_ENVIRONMENT);
            return EXIT_USAGE;
        }
        String pinText = controlPin != null ? controlPin : System.getenv("MESHWORK_CONTROL_PIN");
        if (pinText != null && !(controlPin == null && pinText.isBlank())) {
            try {
                pin = CertificatePin.parse(pinText);
            } catch (IllegalArgumentException e) {
                err.println("relay: bad --control-pin: " + e.getMessage());
                return EXIT_USAGE;
            }
            if (control == null || !"https".equalsIgnoreCase(control.getScheme())) {
                err.println("relay: --control-pin needs an https:// --control URL");
                return EXIT_USAGE;
            }
        }
        if (noUdp && noTcp) {
            err.println("relay: --no-udp and --no-tcp leave nothing to listen on");
            return EXIT_USAGE;
        }
        if ((tlsCertificate == null) != (tlsKey == null)) {
            err.println("relay: --tls-cert and --tls-key go together");
            return EXIT_USAGE;
        }
        if (stunIps.size() > 2) {
            err.println("relay: --stun takes one or two IPs");
            return EXIT_USAGE;
        }
        if (stun6Ip != null && !(stun6Ip instanceof java.net.Inet6Address)) {
            err.println("relay: --stun6 takes an IPv6 address, not " + stun6Ip.getHostAddress());
            return EXIT_USAGE;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "relay-shutdown"));
        try {
            RelayServer server = start(out, enrollmentToken);
            out.printf("relay ready udp=%s tcp=%s%n",
                    server.udpAddress().map(IpLiteral::format).orElse("off"),
                    server.tcpAddress().map(IpLiteral::format).orElse("off"));
            out.flush();
        } catch (StartException e) {
            err.println("relay: " + e.getMessage());
            err.flush();
            shutdown();
            return EXIT_START_FAILED;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return EXIT_STOPPED;
    }

    private RelayServer start(PrintWriter out, String enrollmentToken) throws StartException {
        RevocationList revocations = new RevocationList();
        AtomicReference<RelayServer> serverReference = new AtomicReference<>();
        Optional<TrustAnchors> fromFile = caFile == null ? Optional.empty() : Optional.of(readAnchors());
        Optional<RelayRegistration> registration = Optional.empty();
        TrustAnchors anchors;
        int heartbeatSeconds = 15;
        if (control != null) {
            ControlPlane plane = new HttpControlPlane(control, enrollmentToken, pin);
            ControlPlane.Enrollment enrollment;
            try {
                enrollment = plane.register(advertisement(tlsPin()));
            } catch (ControlException e) {
                throw new StartException("enrollment with control failed: " + e.getMessage());
            }
            try {
                anchors = fromFile.orElse(TrustAnchors.fromPem(enrollment.caCertificatePem()));
            } catch (CertificateException e) {
                throw new StartException("control sent an unreadable CA certificate: " + e.getMessage());
            }
            heartbeatSeconds = enrollment.heartbeatSeconds();
            RelayRegistration registered = new RelayRegistration(plane, enrollment.relayId(), revocations,
                    () -> health(serverReference.get()));
            resources.push(registered);
            registration = Optional.of(registered);
            out.println("relay enrolled with control as " + enrollment.relayId());
        } else {
            anchors = fromFile.orElseThrow();
        }
        if (revokedFile != null) {
            try {
                resources.push(RevocationFile.watch(revokedFile, revocations, Duration.ofSeconds(5)));
            } catch (IOException | NumberFormatException e) {
                throw new StartException("cannot read revocations from " + revokedFile + ": " + e.getMessage());
            }
        }
        RelayConfig.Builder config = RelayConfig.builder(anchors)
                .revocations(revocations)
                .clientRateLimit(clientRate, Math.max(clientRate / 8, 256 << 10))
                .idleTimeout(Duration.ofSeconds(idleSeconds));
        try {
            config.maxPendingConnections(maxPendingPerSource, maxPending)
                    .sourceAnswerRate(answerRate, 2 * answerRate, MAX_ANSWER_SOURCES);
        } catch (IllegalArgumentException e) {
            throw new StartException(e.getMessage());
        }
        if (!noUdp) {
            config.udp(udp);
        }
        if (!noTcp) {
            config.tcp(tcp);
        }
        if (tlsCertificate != null) {
            try {
                config.tls(SslContextBuilder.forServer(tlsCertificate.toFile(), tlsKey.toFile()).build());
                out.println("relay TLS certificate sha256 " + tlsPin());
            } catch (IOException | IllegalArgumentException e) {
                throw new StartException("cannot load TLS certificate or key: " + e.getMessage());
            }
        }
        registration.ifPresent(config::events);
        RelayMetrics metrics = new RelayMetrics();
        RelayServer server;
        try {
            server = RelayServer.start(config.build(), metrics);
        } catch (IOException e) {
            throw new StartException(e.getMessage());
        }
        resources.push(server);
        serverReference.set(server);
        if (!stunIps.isEmpty()) {
            try {
                resources.push(StunServer.start(new StunServerAddresses(stunIps.get(0),
                        stunIps.size() > 1 ? Optional.of(stunIps.get(1)) : Optional.empty(), stunPort),
                        "meshwork relay", server::mayAnswerStun));
            } catch (IOException | IllegalArgumentException e) {
                throw new StartException("cannot start the STUN server: " + e.getMessage());
            }
        }
        if (stun6Ip != null) {
            try {
                resources.push(StunServer.start(StunServerAddresses.single(stun6Ip, stunPort), "meshwork relay",
                        server::mayAnswerStun));
            } catch (IOException | IllegalArgumentException e) {
                throw new StartException("cannot start the IPv6 STUN server: " + e.getMessage());
            }
        }
        if (metricsAddress != null) {
            try {
                resources.push(MetricsHttpServer.start(metricsAddress, metrics));
            } catch (IOException e) {
                throw new StartException("cannot serve metrics on " + metricsAddress + ": " + e.getMessage());
            }
        }
        int beatSeconds = heartbeatSeconds;
        registration.ifPresent(registered -> registered.start(beatSeconds));
        return server;
    }

    private TrustAnchors readAnchors() throws StartException {
        try {
            return TrustAnchors.fromFile(caFile);
        } catch (IOException | CertificateException e) {
            throw new StartException("cannot read CA certificate " + caFile + ": " + e.getMessage());
        }
    }

    private ControlPlane.Advertisement advertisement(String tlsSha256) {
        List<String> stun = new ArrayList<>();
        stunIps.forEach(ip -> stun.add(IpLiteral.format(new InetSocketAddress(ip, stunPort))));
        if (stun6Ip != null) {
            stun.add(IpLiteral.format(new InetSocketAddress(stun6Ip, stunPort)));
        }
        return new ControlPlane.Advertisement(noUdp ? null : IpLiteral.format(advertised(udp)),
                noTcp ? null : IpLiteral.format(advertised(tcp)), stun, noTcp ? null : tlsSha256);
    }

    /** The pin of the TLS certificate the TCP listener serves, for control to hand to devices; null without TLS. */
    private String tlsPin() throws StartException {
        if (tlsCertificate == null) {
            return null;
        }
        try {
            return TlsCertificatePin.sha256Hex(tlsCertificate);
        } catch (IOException | CertificateException e) {
            throw new StartException("cannot read TLS certificate " + tlsCertificate + ": " + e.getMessage());
        }
    }

    private InetSocketAddress advertised(InetSocketAddress bind) {
        return publicAddress == null ? bind : new InetSocketAddress(publicAddress, bind.getPort());
    }

    private static ControlPlane.Health health(RelayServer server) {
        if (server == null) {
            return new ControlPlane.Health(0, 0, false);
        }
        return new ControlPlane.Health(server.clientCount(Transport.UDP), server.clientCount(Transport.TCP), true);
    }

    /** Stops everything the command started; also run by the shutdown hook. */
    synchronized void shutdown() {
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                spec.commandLine().getErr().println("relay: error while stopping: " + e.getMessage());
            }
        }
        stopped.countDown();
    }

    /** A start-up failure with a one-line message for the operator. */
    private static final class StartException extends Exception {
        StartException(String message) {
            super(message);
        }
    }
}
