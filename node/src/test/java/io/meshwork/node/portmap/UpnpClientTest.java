package io.meshwork.node.portmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.meshwork.protocol.portmap.IgdDescription;
import io.meshwork.protocol.portmap.PortMapProtocol;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The UPnP client's SOAP calls against a scripted control URL on loopback: the external address, a conflict that
 * makes it pick another external port, and gateways that answer too much or too slowly, which cost a bounded wait
 * and no mapping.
 */
class UpnpClientTest {

    private static final String TYPE = "urn:schemas-upnp-org:service:WANIPConnection:2";
    private static final Pattern EXTERNAL_PORT = Pattern.compile("<NewExternalPort>(\\d+)</NewExternalPort>");
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private HttpServer server;

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void readsTheExternalAddressAndPicksAnotherPortOnAConflict() throws Exception {
        start(exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(exchange.getRequestHeaders().getFirst("SOAPAction") + " " + body);
            if (body.contains("GetExternalIPAddress")) {
                answer(exchange, 200, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                        + "<u:GetExternalIPAddressResponse xmlns:u=\"" + TYPE + "\"><NewExternalIPAddress>192.0.3.201"
                        + "</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>");
            } else if (requests.stream().filter(r -> r.contains("#AddPortMapping")).count() == 1) {
                answer(exchange, 500, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                        + "<s:Fault><detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>718"
                        + "</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError>"
                        + "</detail></s:Fault></s:Body></s:Envelope>");
            } else {
                answer(exchange, 200, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                        + "<u:AddPortMappingResponse xmlns:u=\"" + TYPE + "\"/></s:Body></s:Envelope>");
            }
        });
        UpnpClient client = new UpnpClient(Duration.ofSeconds(2), new DropCounter(), Clock.systemUTC());
        Lease lease = client.map(InetAddress.getLoopbackAddress(), 51820, Duration.ofHours(2), held()).orElseThrow();
        assertEquals(PortMapProtocol.UPNP, lease.mapping().protocol());
        assertEquals("192.0.3.201", lease.mapping().external().getAddress().getHostAddress());
        List<String> adds = requests.stream().filter(r -> r.contains("#AddPortMapping")).toList();
        assertEquals(2, adds.size());
        assertTrue(adds.get(0).startsWith("\"" + TYPE + "#AddPortMapping\""), adds.get(0));
        assertEquals(51820, externalPort(adds.get(0)));
        assertNotEquals(51820, externalPort(adds.get(1)), "a conflict makes it ask another external port");
        assertEquals(externalPort(adds.get(1)), lease.mapping().external().getPort());
    }

    @Test
    void anOversizedAnswerIsNoMapping() throws Exception {
        start(exchange -> answer(exchange, 200, "<x>" + "a".repeat(64 * 1024) + "</x>"));
        DropCounter drops = new DropCounter();
        UpnpClient client = new UpnpClient(Duration.ofSeconds(2), drops, Clock.systemUTC());
        assertTrue(client.map(InetAddress.getLoopbackAddress(), 51820, Duration.ofHours(2), held()).isEmpty());
        assertEquals(1, drops.count(DropCounter.Reason.BAD_HTTP));
    }

    @Test
    void aGatewayThatTricklesItsAnswerIsCutOff() throws Exception {
        start(exchange -> {
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < 100; i++) {
                    out.write('<');
                    out.flush();
                    Thread.sleep(100);
                }
            } catch (InterruptedException | IOException e) {
                // the client went away: what this test wants
            }
        });
        UpnpClient client = new UpnpClient(Duration.ofMillis(300), new DropCounter(), Clock.systemUTC());
        assertThrows(IOException.class,
                () -> client.map(InetAddress.getLoopbackAddress(), 51820, Duration.ofHours(2), held()));
    }

    private Lease held() {
        URI control = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/ctl/IPConn");
        PortMapping mapping = new PortMapping(PortMapProtocol.UPNP, InetAddress.getLoopbackAddress(),
                new InetSocketAddress("192.0.3.201", 51820), 51820, Instant.now());
        return new Lease(mapping, Duration.ofHours(2), InetAddress.getLoopbackAddress(), null, null,
                new IgdDescription.Service(TYPE, control));
    }

    private void start(Handler handler) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try {
                handler.handle(exchange);
            } finally {
                exchange.close();
            }
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static int externalPort(String request) {
        Matcher matcher = EXTERNAL_PORT.matcher(request);
        assertTrue(matcher.find(), request);
        return Integer.parseInt(matcher.group(1));
    }

    @FunctionalInterface
    private interface Handler {
        void handle(HttpExchange exchange) throws IOException;
    }
}
