package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.meshwork.node.cli.NodeCommand;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.tls.CertificatePin;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The node's control client over HTTPS with {@code --control-pin}: a stub control serves a self-signed
 * certificate for a name that is not the address dialled; the client pinned to it registers, one pinned to
 * another certificate refuses at once and says so, and the pin is kept in the identity.
 */
class ControlClientTlsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RegisterResponse ANSWER = new RegisterResponse("org-d1", "org", "mwd.org-d1.secret",
            List.of("100.64.0.1"), "cert", "ca", List.of(), List.of(), null, "active");

    @TempDir
    Path state;

    private HttpsServer server;
    private final AtomicInteger requests = new AtomicInteger();

    record SelfSigned(KeyPair keys, X509Certificate certificate) {
        static SelfSigned generate(String dnsName) throws Exception {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = generator.generateKeyPair();
            X500Name name = new X500Name("CN=" + dnsName);
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                    Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), name, keys.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
            return new SelfSigned(keys, new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()))));
        }

        CertificatePin pin() throws Exception {
            return CertificatePin.of(certificate);
        }

        SSLContext serverContext() throws Exception {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("control", keys.getPrivate(), new char[0], new X509Certificate[] {certificate});
            KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            managers.init(store, new char[0]);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(managers.getKeyManagers(), null, null);
            return context;
        }
    }

    /** A control stub on 127.0.0.1 serving {@code tls}; returns its https URL. */
    private URI serve(SelfSigned tls) throws Exception {
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls.serverContext()));
        server.createContext("/api/v1/register", exchange -> {
            requests.incrementAndGet();
            byte[] body = JSON.writeValueAsBytes(ANSWER);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(201, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return URI.create("https://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void aPinnedClientRegistersWithExactlyThePinnedCertificateAndKeepsThePin() throws Exception {
        SelfSigned control = SelfSigned.generate("control.example");
        URI url = serve(control);
        ControlClient client = new ControlClient(url, control.pin());
        NodeIdentity identity = Registration.register(client, url.toString(), "mwk.org.k.s", "laptop", state,
                wait -> { });
        assertEquals("org-d1", identity.registration().id());
        assertEquals(control.pin().toString(), identity.controlPin());
        NodeIdentity loaded = NodeIdentity.load(state);
        assertEquals(identity, loaded);
        assertEquals(control.pin().toString(), loaded.controlPin());
        assertEquals(url.toString(), loaded.controlUrl());
    }

    @Test
    void aClientPinnedToAnotherCertificateRefusesAtOnceAndSaysSo() throws Exception {
        URI url = serve(SelfSigned.generate("control.example"));
        CertificatePin other = SelfSigned.generate("control.example").pin();
        ControlClient client = new ControlClient(url, other);
        IOException refused = assertThrows(IOException.class, () -> Registration.register(client, url.toString(),
                "mwk.org.k.s", "laptop", state, wait -> { }));
        assertTrue(refused instanceof ControlClient.PinMismatchException, refused.toString());
        assertEquals("control's certificate does not match --control-pin " + other, refused.getMessage());
        assertEquals(0, requests.get(), "nothing reaches a control the pin does not name");
        assertFalse(Files.exists(state.resolve(NodeIdentity.FILE)));
    }

    @Test
    void withoutAPinTheJdkTrustStoreRefusesTheSelfSignedCertificate() throws Exception {
        URI url = serve(SelfSigned.generate("control.example"));
        IOException refused = assertThrows(IOException.class, () -> new ControlClient(url)
                .register("mwk.org.k.s", new io.meshwork.protocol.api.RegisterRequest("k", "h", java.util.Map.of(),
                        List.of())));
        assertFalse(refused instanceof ControlClient.PinMismatchException);
    }

    @Test
    void anIdentityWrittenBeforePinsLoadsWithoutOne() throws Exception {
        Files.writeString(state.resolve(NodeIdentity.FILE), JSON.writeValueAsString(java.util.Map.of(
                "controlUrl", "http://control:8080", "hostname", "laptop", "privateKey", "k",
                "registration", ANSWER)));
        NodeIdentity loaded = NodeIdentity.load(state);
        assertNull(loaded.controlPin());
        assertEquals("http://control:8080", loaded.controlUrl());
    }

    @Test
    void nodeUpRefusesAMalformedPinOrOneForPlainHttpWithOneLine() {
        for (List<String> args : List.of(
                List.of("--control", "https://control.example:8443", "--control-pin", "sha256:nothex"),
                List.of("--control", "http://control.example:8080", "--control-pin", "sha256:" + "ab".repeat(32)))) {
            StringWriter err = new StringWriter();
            CommandLine command = new CommandLine(new NodeCommand());
            command.setErr(new PrintWriter(err, true));
            List<String> full = new java.util.ArrayList<>(List.of("up", "--state", state.toString(), "--key",
                    "mwk.org.k.s"));
            full.addAll(args);
            assertEquals(2, command.execute(full.toArray(new String[0])), err.toString());
            assertTrue(err.toString().startsWith("meshwork node up: "), err.toString());
            assertFalse(err.toString().strip().contains("\n"), err.toString());
        }
    }
}
