package io.meshwork.relay.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.meshwork.protocol.tls.CertificatePin;
import io.meshwork.relay.cli.RelayCommand;
import io.meshwork.relay.testing.TestTls;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The relay's control client over HTTPS with {@code --control-pin}: a stub control on 127.0.0.1 serves a
 * self-signed certificate for another address; the client pinned to it is answered, one pinned to another
 * certificate refuses and says so.
 */
class HttpControlPlaneTlsTest {

    private HttpsServer server;
    private final AtomicInteger requests = new AtomicInteger();

    private URI serve(TestTls tls) throws Exception {
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls.jdkServerContext()));
        server.createContext("/api/v1/relays/r1/revocations", exchange -> {
            requests.incrementAndGet();
            byte[] body = "{\"serials\":[\"0a\"]}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
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
    void aPinnedClientTrustsExactlyThePinnedCertificate() throws Exception {
        TestTls control = TestTls.selfSigned(InetAddress.getByName("192.0.2.1"));
        URI url = serve(control);
        HttpControlPlane pinned = new HttpControlPlane(url, "mwr.t.secret", CertificatePin.of(control.certificate()));
        assertEquals(1, pinned.revokedSerials("r1").size());

        CertificatePin other = CertificatePin.of(TestTls.selfSigned(InetAddress.getByName("192.0.2.1")).certificate());
        ControlException refused = assertThrows(ControlException.class,
                () -> new HttpControlPlane(url, "mwr.t.secret", other).revokedSerials("r1"));
        assertTrue(refused.getMessage().endsWith("control's certificate does not match --control-pin " + other),
                refused.getMessage());
        assertEquals(1, requests.get(), "the refused client sent nothing");

        assertThrows(ControlException.class, () -> new HttpControlPlane(url, "mwr.t.secret").revokedSerials("r1"),
                "without the pin the JDK trust store refuses a self-signed certificate");
    }

    @Test
    void aMalformedPinOrOneForPlainHttpIsAUsageErrorOfOneLine() {
        for (List<String> args : List.of(
                List.of("--control", "https://control.example:8443", "--control-pin", "sha256:12"),
                List.of("--control", "http://control.example:8080", "--control-pin", "ab".repeat(32)))) {
            StringWriter err = new StringWriter();
            CommandLine command = new CommandLine(new RelayCommand());
            command.setErr(new PrintWriter(err, true));
            List<String> full = new java.util.ArrayList<>(args);
            full.addAll(List.of("--token", "mwr.t.secret"));
            assertEquals(RelayCommand.EXIT_USAGE, command.execute(full.toArray(new String[0])), err.toString());
            assertTrue(err.toString().startsWith("relay: "), err.toString());
            assertFalse(err.toString().strip().contains("\n"), err.toString());
        }
    }
}
