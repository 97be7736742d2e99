package io.meshwork.control;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ca.AuthorityAdoption;
import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.control.ca.ClusterAuthority;
import io.meshwork.control.http.ControlRoutes;
import io.meshwork.control.http.RegistrationWarmUp;
import io.meshwork.control.http.TokenKind;
import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.OrganizationDirectory;
import io.meshwork.control.organization.OrganizationWriter;
import io.meshwork.control.relay.TlsPin;
import io.meshwork.control.tls.ClusterCredentials;
import io.meshwork.control.tls.ControlTls;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.tls.CertificatePin;
import io.meshwork.protocol.api.RelayInfo;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.meshwork.protocol.fs.SecretFiles;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running control-plane member: a Pekko Cluster node (joining itself when no seed nodes are configured) with
 * the sharded Organization entities on JDBC persistence (H2 by default, PostgreSQL by config), the cluster's one
 * CA (adopted through {@link ClusterAuthority} before the API serves), the HTTP API, and the Prometheus metrics on a
 * listener of their own ({@code meshwork.control.metrics}, loopback by default).
 */
public final class ControlServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);

    /**
     * Control refuses to start with its configuration (exit 2 from {@code meshwork control}): the message says
     * what is wrong and what to change, and nothing started.
     */
    public static class ConfigurationRefusedException extends IOException {
        private static final long serialVersionUID = 1L;

        ConfigurationRefusedException(String message) {
            super(message);
        }
    }

    /**
     * Control was asked to serve plain HTTP on an address other than loopback without {@code http.insecure}: it
     * refuses, and the message says how to enable TLS.
     */
    public static final class InsecureListenerException extends ConfigurationRefusedException {
        private static final long serialVersionUID = 1L;

        InsecureListenerException(String host) {
            super("refusing to serve the API over plain HTTP on " + host + ", which is not a loopback address: "
                    + "enable TLS with --tls-cert FILE --tls-key FILE or --tls-self-signed "
                    + "(meshwork.control.tls), or accept plain HTTP with --insecure-http "
                    + "(meshwork.control.http.insecure = true)");
        }
    }

    private final ActorSystem<Void> system;
    private final ServerBinding binding;
    private final ServerBinding metricsBinding;
    private final String adminToken;
    private final ControlTls tls;
    private final String configuredHost;
    /** What the warm-up at start did. */
    private RegistrationWarmUp.Done warmUp;

    private ControlServer(ActorSystem<Void> system, ServerBinding binding, ServerBinding metricsBinding,
            String adminToken, ControlTls tls, String configuredHost) {
        this.configuredHost = configuredHost;
        this.system = system;
        this.binding = binding;
        this.metricsBinding = metricsBinding;
        this.adminToken = adminToken;
        this.tls = tls;
    }

    /**
     * The configuration of a member: {@code overrides}, then the operator's application.conf (or -Dconfig.file),
     * then control-defaults.conf, then the libraries' reference.conf files.
     */
    public static Config configuration(Config overrides) {
        return resolve(overrides.withFallback(ConfigFactory.defaultApplication())
                .withFallback(ConfigFactory.parseResources("control-defaults.conf"))
                .withFallback(ConfigFactory.defaultReference()));
    }

    /** Applies {@code meshwork.control.database = postgres} to the persistence plugin's shared database. */
    static Config resolve(Config unresolved) {
        Config config = unresolved.resolve();
        Config control = config.getConfig("meshwork.control");
        Config selected = config;
        if (control.getString("database").equals("postgres")) {
            Config postgres = control.getConfig("postgres");
            selected = ConfigFactory.parseString(""
                    + "pekko-persistence-jdbc.shared-databases.slick.profile = \"slick.jdbc.PostgresProfile$\"\n"
                    + "pekko-persistence-jdbc.shared-databases.slick.db.driver = \"org.postgresql.Driver\"\n")
                    .withFallback(ConfigFactory.parseMap(java.util.Map.of(
                            "pekko-persistence-jdbc.shared-databases.slick.db.url", postgres.getString("url"),
                            "pekko-persistence-jdbc.shared-databases.slick.db.user", postgres.getString("user"),
                            "pekko-persistence-jdbc.shared-databases.slick.db.password", postgres.getString("password"))))
                    .withFallback(config);
        } else if (!control.getString("database").equals("h2")) {
            throw new IllegalArgumentException("meshwork.control.database must be h2 or postgres, not "
                    + control.getString("database"));
        }
        Path clusterTls = clusterTlsDirectory(control);
        return ConfigFactory.parseString("pekko.http.server.remote-address-attribute = on\n"
                        + "pekko.http.server.parsing.max-content-length = " + control.getBytes("http.max-body-bytes")
                        + "\npekko.http.server.max-connections = " + positive(control, "http.max-connections")
                        + "\npekko.http.server.backlog = " + positive(control, "http.backlog"))
                .withFallback(ConfigFactory.parseMap(java.util.Map.of(
                        ROTATING_KEYS + ".key-file", clusterTls.resolve(ClusterCredentials.MEMBER_KEY).toString(),
                        ROTATING_KEYS + ".cert-file", clusterTls.resolve(ClusterCredentials.MEMBER_CERTIFICATE).toString(),
                        ROTATING_KEYS + ".ca-cert-file", clusterTls.resolve(ClusterCredentials.CA_CERTIFICATE).toString())))
                .withFallback(selected).resolve();
    }

    private static int positive(Config control, String key) {
        int value = control.getInt(key);
        if (value < 1) {
            throw new IllegalArgumentException("meshwork.control." + key + " must be at least 1, not " + value);
        }
        return value;
    }

    /** Where Pekko's TLS engine for the cluster port reads its PEM files. */
    private static final String ROTATING_KEYS = "pekko.remote.artery.ssl.rotating-keys-engine";

    /** The member directory of this member's cluster credentials: cluster-tls.directory, else data-dir/cluster-tls. */
    public static Path clusterTlsDirectory(Config control) {
        String configured = control.getString("cluster-tls.directory");
        Path directory = configured.isBlank() ? Path.of(control.getString("data-dir")).resolve("cluster-tls")
                : Path.of(configured);
        return directory.toAbsolutePath();
    }

    /** Starts a member with {@code config} (already resolved with {@link #resolve}); blocks until it serves. */
    public static ControlServer start(Config config) throws IOException {
        Config control = config.getConfig("meshwork.control");
        Path dataDir = Path.of(control.getString("data-dir"));
        // The data directory holds the H2 database (with the CA key) and the admin token: owner only.
        SecretFiles.createPrivateDirectories(dataDir);
        String host = control.getString("http.host");
        ControlTls tls = tls(control, dataDir, host);
        if (tls == null && !control.getBoolean("http.insecure") && !ControlTls.isLoopback(host)) {
            throw new InsecureListenerException(host);
        }
        String adminToken = adminToken(control, dataDir);
        HostPort metricsAt = metricsAddress(control);
        String passphrase = caKeyPassphrase(control);
        clusterCredentials(config);

        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "meshwork", config);
        try {
            Cluster cluster = Cluster.get(system);
            if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
                cluster.manager().tell(Join.create(cluster.selfMember().address()));
            }
            SchemaUtils.createIfNotExists(system).toCompletableFuture().get(60, TimeUnit.SECONDS);
            Organization.init(system, control.getInt("snapshot-every"));
            io.meshwork.control.organization.Device.init(system);
            io.meshwork.control.relay.RelayDirectory.init(system);
            OrganizationDirectory.init(system);
            io.meshwork.control.organization.DnsSettings.init(system);
            ClusterAuthority.init(system, passphrase);
            CertificateAuthority ca = AuthorityAdoption.adopt(system, dataDir.resolve("ca"), passphrase,
                    control.getDuration("ca-adoption-timeout"));
            JournalSchema schema = new JournalSchema(system, config, control.getDuration("ready-check-interval"));
            system.getWhenTerminated().thenRunAsync(schema::close, Answers.DIRECT);
            PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            Duration askTimeout = control.getDuration("ask-timeout");
            // Group commit in front of the organizations: one writer per member, for every route that registers
            // devices or reports their endpoints.
            ActorRef<OrganizationWriter.Message> writer = system.systemActorOf(
                    OrganizationWriter.create(ClusterSharding.get(system), askTimeout), "organization-writer",
                    Props.empty());
            ControlRoutes routes = new ControlRoutes(system, ca, new ControlRoutes.Settings(adminToken,
                    control.getString("default-ipv4-cidr"), relays(control), control.getStringList("stun-servers"),
                    control.getDuration("stream-coalesce-window"), control.getDuration("stream-safety-poll"),
                    askTimeout, tls == null ? null : tls.pin().toString(),
                    () -> cluster.selfMember().status() != MemberStatus.up()
                            ? CompletableFuture.completedFuture("the cluster member is not up yet")
                            : schema.problem(),
                    Duration.ofSeconds(Math.max(1, control.getDuration("relay-heartbeat").toSeconds()))),
                    metrics, writer);
            ServerBinding metricsBinding = null;
            if (metricsAt != null) {
                try {
                    metricsBinding = Http.get(system).newServerAt(metricsAt.host(), metricsAt.port())
                            .bind(routes.metricsRoutes()).toCompletableFuture().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    throw new IOException("cannot serve metrics on " + metricsAt + " (meshwork.control.metrics, "
                            + "--metrics HOST:PORT or off): " + e.getCause().getMessage(), e.getCause());
                }
            }
            ServerBuilder server = Http.get(system).newServerAt(host, control.getInt("http.port"));
            if (tls != null) {
                // HTTPS only: the listener takes no plain HTTP.
                server = server.enableHttps(ConnectionContext.httpsServer(tls.serverContext()));
            }
            Route route = routes.routes();
            // Before the listener binds: the first registrations then do not run the code interpreted.
            RegistrationWarmUp.Done warmedUp = RegistrationWarmUp.run(system, route, ca,
                    control.getDuration("warm-up"));
            ServerBinding binding = server.bind(route)
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            // At shutdown, however it comes (close(), a signal, the cluster downing this member): stop taking
            // connections first, then let requests in flight finish within the deadline, then the rest stops.
            Duration deadline = control.getDuration("http.shutdown-deadline");
            CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
            shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "http-unbind", () -> binding.unbind());
            ServerBinding metricsListener = metricsBinding;
            if (metricsListener != null) {
                shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "metrics-unbind",
                        () -> metricsListener.unbind());
            }
            shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "http-terminate",
                    () -> binding.terminate(deadline).thenApplyAsync(terminated -> Done.getInstance(), Answers.DIRECT));
            log.info("control listening on {} ({})", binding.localAddress(),
                    tls == null ? "plain HTTP" : "HTTPS, certificate pin " + tls.pin());
            if (metricsBinding != null) {
                log.info("control metrics on http://{}/metrics", IpLiteral.format(metricsBinding.localAddress()));
            }
            ControlServer started = new ControlServer(system, binding, metricsBinding, adminToken, tls, host);
            started.warmUp = warmedUp;
            return started;
        } catch (Exception e) {
            system.terminate();
            if (e instanceof AuthorityAdoption.CaKeyRefusedException refused) {
                throw new ConfigurationRefusedException(refused.getMessage());
            }
            throw new IOException("control plane failed to start: " + e.getMessage(), e);
        }
    }

    /**
     * Where the metrics listener is to serve ({@code meshwork.control.metrics}, {@code HOST:PORT}), or null for
     * {@code off}.
     */
    static HostPort metricsAddress(Config control) {
        String setting = control.getString("metrics").strip();
        if (setting.equals("off")) {
            return null;
        }
        try {
            HostPort at = HostPort.parse(setting, -1);
            if (at.port() < 0) {
                throw new InvalidAddressException("'" + setting + "' has no port");
            }
            return at;
        } catch (InvalidAddressException e) {
            throw new IllegalArgumentException("meshwork.control.metrics must be HOST:PORT or off: "
                    + e.getMessage());
        }
    }

    /**
     * This member's credentials for the cluster port: those in cluster-tls.directory (refused, saying why, unless
     * they are usable), else those under data-dir/cluster-tls, generated there on first start.
     */
    private static ClusterCredentials clusterCredentials(Config config) throws IOException {
        Config control = config.getConfig("meshwork.control");
        Path directory = clusterTlsDirectory(control);
        boolean configured = !control.getString("cluster-tls.directory").isBlank();
        ClusterCredentials credentials;
        try {
            if (configured || ClusterCredentials.present(directory)) {
                credentials = ClusterCredentials.load(directory);
            } else {
                credentials = ClusterCredentials.generateStandalone(directory);
                log.info("generated cluster credentials with a CA of their own in {}", directory);
                if (!config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
                    log.warn("seed nodes are configured but no cluster credentials (meshwork.control.cluster-tls"
                            + ".directory, --cluster-certs): the credentials generated in {} admit no other "
                            + "member; make them for every member with `meshwork control cluster-certs`", directory);
                }
            }
        } catch (ClusterCredentials.UnusableCredentialsException e) {
            throw new ConfigurationRefusedException("unusable cluster credentials (meshwork.control.cluster-tls"
                    + ".directory, --cluster-certs): " + e.getMessage());
        }
        Path key = directory.resolve(ClusterCredentials.MEMBER_KEY);
        if (!SecretFiles.isPrivate(key)) {
            log.warn("{} is readable by others than its owner: chmod 600 it", key);
        }
        return credentials;
    }

    /**
     * The passphrase the CA key is stored with: ca-key-passphrase, or the first line of ca-key-passphrase-file;
     * empty for none.
     */
    private static String caKeyPassphrase(Config control) throws IOException {
        String passphrase = control.getString("ca-key-passphrase");
        String file = control.getString("ca-key-passphrase-file");
        if (file.isBlank()) {
            return passphrase;
        }
        if (!passphrase.isEmpty()) {
            throw new ConfigurationRefusedException("give meshwork.control.ca-key-passphrase or "
                    + "ca-key-passphrase-file, not both");
        }
        String fromFile;
        try {
            fromFile = Files.readString(Path.of(file), StandardCharsets.UTF_8).lines().findFirst().orElse("");
        } catch (IOException e) {
            throw new ConfigurationRefusedException("cannot read the CA key passphrase file " + file
                    + " (meshwork.control.ca-key-passphrase-file): " + e.getMessage());
        }
        if (fromFile.isEmpty()) {
            throw new ConfigurationRefusedException("the CA key passphrase file " + file + " is empty");
        }
        return fromFile;
    }

    /** The TLS the configuration asks for, or null for plain HTTP. */
    private static ControlTls tls(Config control, Path dataDir, String host) throws IOException {
        String certificate = control.getString("tls.cert-file");
        String key = control.getString("tls.key-file");
        boolean selfSigned = control.getBoolean("tls.self-signed");
        if (certificate.isBlank() != key.isBlank()) {
            throw new IllegalArgumentException("meshwork.control.tls needs both cert-file and key-file");
        }
        if (!certificate.isBlank() && selfSigned) {
            throw new IllegalArgumentException("meshwork.control.tls: give cert-file and key-file or self-signed, "
                    + "not both");
        }
        if (!certificate.isBlank()) {
            return ControlTls.fromPem(Path.of(certificate), Path.of(key));
        }
        return selfSigned ? ControlTls.selfSigned(dataDir, host) : null;
    }

    private static List<RelayInfo> relays(Config control) {
        return control.getConfigList("relays").stream()
                .map(relay -> new RelayInfo(relay.getString("name"),
                        relay.hasPath("udp") ? relay.getString("udp") : null,
                        relay.hasPath("tcp") ? relay.getString("tcp") : null,
                        relay.hasPath("tls-sha256") ? TlsPin.normalize(relay.getString("tls-sha256")) : null,
                        relay.hasPath("region") ? relay.getString("region") : null))
                .toList();
    }

    /** The configured admin token, or the one in data-dir/admin-token, made (0600) on first start. */
    private static String adminToken(Config control, Path dataDir) throws IOException {
        String configured = control.getString("admin-token");
        if (!configured.isBlank()) {
            return configured.strip();
        }
        Path file = dataDir.resolve("admin-token");
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        }
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        String token = TokenKind.ADMIN.format(HexFormat.of().formatHex(random));
        SecretFiles.writeAtomically(file, (token + "\n").getBytes(StandardCharsets.UTF_8));
        return token;
    }

    /** What the warm-up before the listener bound did ({@code meshwork.control.warm-up}). */
    public RegistrationWarmUp.Done warmUp() {
        return warmUp;
    }

    public InetSocketAddress httpAddress() {
        return binding.localAddress();
    }

    /** Where the metrics listener serves {@code /metrics}, or null when it is off. */
    public InetSocketAddress metricsAddress() {
        return metricsBinding == null ? null : metricsBinding.localAddress();
    }

    /** The API's base URL as bound, {@code https://} with TLS. */
    public String url() {
        InetSocketAddress address = httpAddress();
        // A wildcard listener is named as configured ("0.0.0.0"), not as the JDK reports it ("[::]").
        String host = address.getAddress() == null ? address.getHostString()
                : address.getAddress().isAnyLocalAddress() ? configuredHost
                : IpLiteral.format(address.getAddress());
        host = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return (tls == null ? "http://" : "https://") + host + ":" + address.getPort();
    }

    /** The pin of the certificate the API serves, or null over plain HTTP. */
    public CertificatePin pin() {
        return tls == null ? null : tls.pin();
    }

    public String adminToken() {
        return adminToken;
    }

    public ActorSystem<Void> system() {
        return system;
    }

    @Override
    public void close() {
        // Runs the coordinated shutdown, which unbinds and terminates the HTTP binding first (see start).
        system.terminate();
        io.meshwork.control.organization.RevisionTopics.forget(system);
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("control did not stop cleanly: {}", e.toString());
        }
    }
}
