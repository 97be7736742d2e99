package io.meshwork.control.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.ControlServer;
import io.meshwork.control.tls.ClusterCredentials;
import io.meshwork.control.tls.ControlTls;
import io.meshwork.protocol.tls.CertificatePin;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code meshwork control}: the self-signed certificate (printed pin, kept 0600 under the data directory, the same
 * after a restart) and the refusal of plain HTTP on a non-loopback address.
 */
class ControlCommandTest {

    private static final String ADMIN = "mwa.control-cli";
    private static final Pattern PIN = Pattern.compile("certificate pin (sha256:[0-9a-f]{64})");

    record Run(int exit, String out, String err) {}

    /** Runs the command; while control serves, {@code whileServing} looks at it, then it is closed. */
    private static Run control(Path directory, ServingCheck whileServing, String... args) throws Exception {
        return control(directory, "", whileServing, args);
    }

    /** Like the above with {@code extraConfig} (HOCON) in the configuration file. */
    private static Run control(Path directory, String extraConfig, ServingCheck whileServing, String... args)
            throws Exception {
        Path config = directory.resolve("control.conf");
        Files.writeString(config, "meshwork.control.admin-token = \"" + ADMIN + "\"\n"
                + "meshwork.control.metrics = \"127.0.0.1:0\"\n"
                + "pekko.remote.artery.canonical.port = 0\n" + extraConfig);
        List<String> full = new ArrayList<>(List.of("--config", config.toString(),
                "--data", directory.resolve("data").toString()));
        full.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ControlCommand command = new ControlCommand();
        AtomicReference<Exception> failure = new AtomicReference<>();
        command.serving = server -> {
            try {
                whileServing.check(server);
            } catch (Exception e) {
                failure.set(e);
            } finally {
                server.close();
            }
        };
        CommandLine line = new CommandLine(command);
        line.setOut(new PrintWriter(out, true));
        line.setErr(new PrintWriter(err, true));
        int exit = line.execute(full.toArray(new String[0]));
        if (failure.get() != null) {
            throw failure.get();
        }
        return new Run(exit, out.toString(), err.toString());
    }

    interface ServingCheck {
        void check(ControlServer server) throws Exception;
    }

    @Test
    void selfSignedControlPrintsItsPinKeepsItsKeyPrivateAndReusesItAfterARestart() throws Exception {
        Path directory = Files.createTempDirectory("mwc-cli-tls");
        AtomicReference<String> clusterPin = new AtomicReference<>();
        Run first = control(directory, server -> {
            HttpClient client = HttpClient.newBuilder().sslContext(server.pin().controlContext()).build();
            HttpResponse<String> cluster = client.send(HttpRequest.newBuilder(
                            URI.create(server.url() + "/api/v1/cluster"))
                    .header("Authorization", "Bearer " + ADMIN).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, cluster.statusCode(), cluster.body());
            clusterPin.set(new ObjectMapper().readTree(cluster.body()).get("controlPin").asText());
        }, "--http", "127.0.0.1:0", "--tls-self-signed");
        assertEquals(0, first.exit(), first.err());
        assertTrue(first.out().contains("listening on https://127.0.0.1:"), first.out());
        Matcher printed = PIN.matcher(first.out());
        assertTrue(printed.find(), first.out());
        assertEquals(printed.group(1), clusterPin.get());

        Path data = directory.resolve("data");
        for (String file : List.of(ControlTls.SELF_SIGNED_KEY, ControlTls.SELF_SIGNED_CERTIFICATE)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(file))),
                    file);
        }
        assertEquals(printed.group(1), ControlTls.fromPem(data.resolve(ControlTls.SELF_SIGNED_CERTIFICATE),
                data.resolve(ControlTls.SELF_SIGNED_KEY)).pin().toString());

        Run second = control(directory, server -> assertNotNull(server.pin()), "--http", "127.0.0.1:0",
                "--tls-self-signed");
        assertEquals(0, second.exit(), second.err());
        Matcher again = PIN.matcher(second.out());
        assertTrue(again.find(), second.out());
        assertEquals(printed.group(1), again.group(1), "a restart keeps the certificate");
        assertEquals(CertificatePin.parse(printed.group(1)), CertificatePin.parse(again.group(1)));
    }

    @Test
    void plainHttpOnANonLoopbackAddressIsRefusedUnlessInsecureHttpIsGiven() throws Exception {
        Path directory = Files.createTempDirectory("mwc-cli-plain");
        Run refused = control(directory, server -> { throw new AssertionError("it must not serve"); },
                "--http", "0.0.0.0:0");
        assertEquals(2, refused.exit(), refused.out());
        assertTrue(refused.err().contains("refusing to serve the API over plain HTTP on 0.0.0.0"), refused.err());
        assertTrue(refused.err().contains("--tls-self-signed") && refused.err().contains("--insecure-http"),
                refused.err());
        assertFalse(refused.err().strip().contains("\n"), "one line: " + refused.err());

        Run insecure = control(directory, server -> assertEquals(null, server.pin()),
                "--http", "0.0.0.0:0", "--insecure-http");
        assertEquals(0, insecure.exit(), insecure.err());
        assertTrue(insecure.out().contains("listening on http://0.0.0.0:"), insecure.out());
        assertFalse(insecure.out().contains("certificate pin"), insecure.out());
    }

    @Test
    void clusterCredentialsAreGeneratedUnderTheDataDirectoryAndUnusableOnesAreRefused() throws Exception {
        Path directory = Files.createTempDirectory("mwc-cli-cluster-tls");
        Run generated = control(directory, server -> { }, "--http", "127.0.0.1:0");
        assertEquals(0, generated.exit(), generated.err());
        Path credentials = directory.resolve("data").resolve("cluster-tls");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(credentials)));
        for (String file : List.of(ClusterCredentials.CA_CERTIFICATE, ClusterCredentials.MEMBER_CERTIFICATE,
                ClusterCredentials.MEMBER_KEY)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                    credentials.resolve(file))), file);
        }
        assertFalse(Files.exists(credentials.resolve(ClusterCredentials.CA_KEY)), "the CA key is not kept");
        ClusterCredentials first = ClusterCredentials.load(credentials);
        AtomicReference<String> servedFrom = new AtomicReference<>();
        Run again = control(directory, server -> servedFrom.set(server.system().settings().config()
                .getString("pekko.remote.artery.ssl.rotating-keys-engine.cert-file")), "--http", "127.0.0.1:0");
        assertEquals(0, again.exit(), again.err());
        assertEquals(first.memberCertificate(), ClusterCredentials.load(credentials).memberCertificate(),
                "a restart keeps them");
        assertEquals(credentials.resolve(ClusterCredentials.MEMBER_CERTIFICATE).toAbsolutePath().toString(),
                servedFrom.get());

        Path empty = Files.createDirectories(directory.resolve("no-credentials"));
        Run refused = control(directory, server -> { throw new AssertionError("it must not serve"); },
                "--http", "127.0.0.1:0", "--cluster-certs", empty.toString());
        assertEquals(2, refused.exit(), refused.out());
        assertTrue(refused.err().contains("unusable cluster credentials") && refused.err().contains("missing"),
                refused.err());
        assertFalse(refused.err().strip().contains("\n"), "one line: " + refused.err());
    }

    @Test
    void aCaKeyStoredUnencryptedIsEncryptedOnceAPassphraseIsSetAndAWrongPassphraseIsRefused() throws Exception {
        Path directory = Files.createTempDirectory("mwc-cli-passphrase");
        Path passphraseFile = directory.resolve("passphrase");
        Files.writeString(passphraseFile, "correct horse\n");
        String fromFile = "meshwork.control.ca-key-passphrase-file = \"" + passphraseFile + "\"\n";

        Run unencrypted = control(directory, server -> { }, "--http", "127.0.0.1:0");
        assertEquals(0, unencrypted.exit(), unencrypted.err());
        // An existing unencrypted key loads with a passphrase set, and is stored encrypted from then on.
        Run encrypting = control(directory, fromFile, server -> { }, "--http", "127.0.0.1:0");
        assertEquals(0, encrypting.exit(), encrypting.err());

        Run withoutPassphrase = control(directory, server -> { throw new AssertionError("it must not serve"); },
                "--http", "127.0.0.1:0");
        assertEquals(2, withoutPassphrase.exit(), withoutPassphrase.out());
        assertTrue(withoutPassphrase.err().contains("the CA key is encrypted"), withoutPassphrase.err());
        Run wrong = control(directory, "meshwork.control.ca-key-passphrase = \"battery staple\"\n",
                server -> { throw new AssertionError("it must not serve"); }, "--http", "127.0.0.1:0");
        assertEquals(2, wrong.exit(), wrong.out());
        assertTrue(wrong.err().contains("does not open with meshwork.control.ca-key-passphrase"), wrong.err());
        assertFalse(wrong.err().strip().contains("\n"), "one line, no stack trace: " + wrong.err());
        Run same = control(directory, "meshwork.control.ca-key-passphrase = \"correct horse\"\n", server -> { },
                "--http", "127.0.0.1:0");
        assertEquals(0, same.exit(), same.err());
    }

    @Test
    void conflictingTlsOptionsAreUsageErrors() throws Exception {
        Path directory = Files.createTempDirectory("mwc-cli-usage");
        Path pem = directory.resolve("cert.pem");
        Files.writeString(pem, "");
        Run certificateOnly = control(directory, server -> { }, "--tls-cert", pem.toString());
        assertEquals(2, certificateOnly.exit());
        assertTrue(certificateOnly.err().contains("--tls-cert and --tls-key go together"), certificateOnly.err());
        Run both = control(directory, server -> { }, "--tls-cert", pem.toString(), "--tls-key", pem.toString(),
                "--tls-self-signed");
        assertEquals(2, both.exit());
    }
}
