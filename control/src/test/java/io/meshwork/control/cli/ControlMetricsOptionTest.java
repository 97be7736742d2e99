package io.meshwork.control.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.control.ControlServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code meshwork control --metrics HOST:PORT}: where the metrics listener serves, {@code off} for none, and a
 * listener that cannot bind stops control from starting (docs/operations.md, "Health, readiness, metrics").
 */
class ControlMetricsOptionTest {

    private static final String ADMIN = "mwa.metrics-option";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    record Run(int exit, String err) {}

    interface ServingCheck {
        void check(ControlServer server) throws Exception;
    }

    private static Run control(ServingCheck whileServing, String metrics) throws Exception {
        Path directory = Files.createTempDirectory("mwc-cli-metrics");
        Path config = directory.resolve("control.conf");
        Files.writeString(config, "meshwork.control.admin-token = \"" + ADMIN + "\"\n"
                + "pekko.remote.artery.canonical.port = 0\n");
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
        StringWriter err = new StringWriter();
        CommandLine line = new CommandLine(command);
        line.setOut(new PrintWriter(new StringWriter(), true));
        line.setErr(new PrintWriter(err, true));
        int exit = line.execute("--config", config.toString(), "--data", directory.resolve("data").toString(),
                "--http", "127.0.0.1:0", "--metrics", metrics);
        if (failure.get() != null) {
            throw failure.get();
        }
        return new Run(exit, err.toString());
    }

    @Test
    void theMetricsListenerServesWhereTheOptionSaysWithoutCredentials() throws Exception {
        Run run = control(server -> {
            assertEquals(InetAddress.getLoopbackAddress(), server.metricsAddress().getAddress());
            HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.metricsAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("meshwork_peer_stream_watchers"), metrics.body());
        }, "127.0.0.1:0");
        assertEquals(0, run.exit(), run.err());
    }

    @Test
    void offLeavesOnlyTheAdminTokensMetricsOnTheApiListener() throws Exception {
        Run run = control(server -> {
            assertNull(server.metricsAddress());
            HttpResponse<String> anonymous = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode(), anonymous.body());
            HttpResponse<String> admin = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/metrics"))
                    .header("Authorization", "Bearer " + ADMIN).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, admin.statusCode(), admin.body());
        }, "off");
        assertEquals(0, run.exit(), run.err());
    }

    @Test
    void aMetricsAddressInUseOrMalformedStopsControlWithAMessage() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Run busy = control(server -> { throw new AssertionError("it must not serve"); },
                    "127.0.0.1:" + taken.getLocalPort());
            assertEquals(1, busy.exit());
            assertTrue(busy.err().contains("cannot serve metrics on 127.0.0.1:" + taken.getLocalPort()), busy.err());
        }
        Run malformed = control(server -> { throw new AssertionError("it must not serve"); }, "localhost");
        assertEquals(1, malformed.exit());
        assertTrue(malformed.err().contains("meshwork.control.metrics must be HOST:PORT or off"), malformed.err());
    }
}
