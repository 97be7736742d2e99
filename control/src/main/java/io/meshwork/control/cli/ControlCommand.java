package io.meshwork.control.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import java.io.File;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code meshwork control}: runs a control-plane member in the foreground; {@code meshwork control cluster-certs}
 * makes the credentials of a cluster's members.
 */
@Command(name = "control", mixinStandardHelpOptions = true, subcommands = ClusterCertsCommand.class,
        description = {"Run the control plane: one cluster member, on embedded defaults unless configured.",
            "Defaults: H2 under the data directory, a self-joined one-member cluster, the admin and node API over HTTP",
            "on 127.0.0.1. On any other address control needs TLS (--tls-cert/--tls-key or --tls-self-signed; it then",
            "prints its certificate pin, sha256:HEX, for clients' --control-pin) or --insecure-http.",
            "The cluster port speaks TLS with mutual authentication: members of one cluster need credentials from",
            "`meshwork control cluster-certs` (--cluster-certs DIR); a member without generates its own under DATA.",
            "The admin token is MESHWORK_ADMIN_TOKEN, or generated into DATA/admin-token."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:stopped", "1:could not start",
            "2:usage or configuration error: plain HTTP on a non-loopback address without --insecure-http, unusable "
                + "cluster credentials, a CA key passphrase that does not open the cluster's CA key"})
public final class ControlCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file layered over the configuration.")
    File configFile;

    @Option(names = "--http", paramLabel = "HOST:PORT", description = "Where the HTTP API listens (default 127.0.0.1:8080).")
    String http;

    @Option(names = "--data", paramLabel = "DIR", description = "Data directory (embedded database, generated admin token).")
    String dataDir;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.")
    File tlsCertificate;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "The private key of --tls-cert (PEM, not encrypted).")
    File tlsKey;

    @Option(names = "--tls-self-signed", description = "Serve HTTPS with a self-signed certificate generated once "
            + "under the data directory (0600) and reused; clients trust it by its pin.")
    boolean tlsSelfSigned;

    @Option(names = "--insecure-http", description = "Serve plain HTTP even on a non-loopback address.")
    boolean insecureHttp;

    @Option(names = "--metrics", paramLabel = "HOST:PORT", description = "Serve Prometheus metrics at "
            + "http://HOST:PORT/metrics without credentials, or 'off' (default 127.0.0.1:9190; on the API listener "
            + "/metrics needs the admin token).")
    String metrics;

    @Option(names = "--cluster-certs", paramLabel = "DIR", description = "This member's cluster credentials: ca.crt, "
            + "tls.crt, tls.key (one member directory of `meshwork control cluster-certs`). Default: DATA/cluster-tls, "
            + "generated on first start.")
    File clusterCertificates;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> overrides = new HashMap<>();
        if (http != null) {
            int colon = http.lastIndexOf(':');
            if (colon <= 0) {
                spec.commandLine().getErr().println("meshwork control: --http needs HOST:PORT");
                return 2;
            }
            overrides.put("meshwork.control.http.host", http.substring(0, colon));
            try {
                overrides.put("meshwork.control.http.port", Integer.parseInt(http.substring(colon + 1)));
            } catch (NumberFormatException e) {
                spec.commandLine().getErr().println("meshwork control: bad port in --http " + http);
                return 2;
            }
        }
        if (dataDir != null) {
            overrides.put("meshwork.control.data-dir", dataDir);
        }
        if ((tlsCertificate == null) != (tlsKey == null)) {
            spec.commandLine().getErr().println("meshwork control: --tls-cert and --tls-key go together");
            return 2;
        }
        if (tlsCertificate != null && tlsSelfSigned) {
            spec.commandLine().getErr().println("meshwork control: give --tls-cert/--tls-key or --tls-self-signed, "
                    + "not both");
            return 2;
        }
        if (tlsCertificate != null) {
            overrides.put("meshwork.control.tls.cert-file", tlsCertificate.getPath());
            overrides.put("meshwork.control.tls.key-file", tlsKey.getPath());
        }
        if (tlsSelfSigned) {
            overrides.put("meshwork.control.tls.self-signed", true);
        }
        if (insecureHttp) {
            overrides.put("meshwork.control.http.insecure", true);
        }
        if (metrics != null) {
            overrides.put("meshwork.control.metrics", metrics);
        }
        if (clusterCertificates != null) {
            overrides.put("meshwork.control.cluster-tls.directory", clusterCertificates.getPath());
        }
        Config config = ConfigFactory.parseMap(overrides);
        if (configFile != null) {
            if (!configFile.canRead()) {
                spec.commandLine().getErr().println("meshwork control: cannot read " + configFile);
                return 2;
            }
            config = config.withFallback(ConfigFactory.parseFile(configFile));
        }
        ControlServer server;
        try {
            server = ControlServer.start(ControlServer.configuration(config));
        } catch (ControlServer.ConfigurationRefusedException e) {
            spec.commandLine().getErr().println("meshwork control: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            spec.commandLine().getErr().println("meshwork control: " + e.getMessage());
            return 1;
        }
        spec.commandLine().getOut().println("meshwork control: listening on " + server.url()
                + " (admin token in MESHWORK_ADMIN_TOKEN or the data directory's admin-token file)");
        if (server.pin() != null) {
            spec.commandLine().getOut().println("meshwork control: certificate pin " + server.pin()
                    + " (clients: --control-pin " + server.pin() + ")");
        }
        spec.commandLine().getOut().flush();
        serving.serve(server);
        return 0;
    }

    /** What the command does while control serves; tests replace it to look at the server, then close it. */
    interface Serving {
        void serve(ControlServer server) throws InterruptedException;
    }

    /** Serves until the process is stopped (a signal), then closes the server. */
    Serving serving = server -> {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "control-shutdown"));
        stopped.await();
    };
}
