package io.meshwork.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.meshwork.node.relay.PinnedCertificateTrust;
import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayClient;
import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.stun.StunDecoder;
import io.meshwork.protocol.stun.StunEncoder;
import io.meshwork.protocol.stun.StunMessage;
import io.meshwork.protocol.stun.TransactionId;
import io.meshwork.relay.auth.DeviceCertificateIssuer;
import io.meshwork.relay.testing.TestDevices;
import io.meshwork.relay.testing.TestTls;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RelayCommandTest {

    private static final Pattern READY = Pattern.compile("relay ready udp=([0-9.]+):(\\d+) tcp=([0-9.]+):(\\d+)");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final TestDevices devices = new TestDevices("control CA");
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(RelayCommand command, String... args) {
        CommandLine line = new CommandLine(command);
        line.setOut(new PrintWriter(out, true));
        line.setErr(new PrintWriter(err, true));
        return line.execute(args);
    }

    @Test
    void usageErrors() {
        assertEquals(RelayCommand.EXIT_USAGE, run(new RelayCommand(), "--udp", "127.0.0.1:0"));
        assertTrue(err.toString().contains("--ca"), err.toString());
        assertEquals(RelayCommand.EXIT_USAGE, run(new RelayCommand(), "--control", "http://127.0.0.1:1/"));
        assertEquals(RelayCommand.EXIT_USAGE, run(new RelayCommand(), "--ca", "x.pem", "--udp", "nonsense"));
    }

    @Test
    void unreadableCaFailsToStart(@TempDir Path directory) throws IOException {
        Path ca = Files.writeString(directory.resolve("ca.pem"), "not a certificate");
        assertEquals(RelayCommand.EXIT_START_FAILED, run(new RelayCommand(), "--ca", ca.toString(),
                "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0"));
        assertTrue(err.toString().startsWith("relay: cannot read CA certificate"), err.toString());
    }

    @Test
    void runsAStunServerWhenAsked(@TempDir Path directory) throws Exception {
        Path ca = Files.writeString(directory.resolve("ca.pem"), DeviceCertificateIssuer.toPem(devices.ca().caCertificate()));
        int stunPort;
        try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            stunPort = probe.getLocalPort();
        }
        RelayCommand command = new RelayCommand();
        Thread relay = new Thread(() -> run(command, "--ca", ca.toString(), "--udp", "127.0.0.1:0", "--no-tcp",
                "--stun", "127.0.0.1", "--stun-port", Integer.toString(stunPort)));
        relay.start();
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            awaitReady(Pattern.compile("relay ready udp=\\S+ tcp=off"));
            socket.setSoTimeout(5_000);
            byte[] request = StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random()));
            socket.send(new DatagramPacket(request, request.length, InetAddress.getLoopbackAddress(), stunPort));
            DatagramPacket answer = new DatagramPacket(new byte[1500], 1500);
            socket.receive(answer);
            StunMessage response = StunDecoder.decode(ByteBuffer.wrap(answer.getData(), 0, answer.getLength()));
            assertEquals(socket.getLocalSocketAddress(), response.mappedAddress().orElseThrow());
        } finally {
            command.shutdown();
            relay.join(5_000);
        }
    }

    @Test
    void answersStunOverIpv6WhenAsked(@TempDir Path directory) throws Exception {
        InetAddress ipv6Loopback = InetAddress.getByName("::1");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.net.NetworkInterface.getByInetAddress(ipv6Loopback) != null,
                "no IPv6 loopback on this host");
        Path ca = Files.writeString(directory.resolve("ca.pem"), DeviceCertificateIssuer.toPem(devices.ca().caCertificate()));
        int stunPort;
        try (DatagramSocket probe = new DatagramSocket(0, ipv6Loopback)) {
            stunPort = probe.getLocalPort();
        }
        RelayCommand command = new RelayCommand();
        Thread relay = new Thread(() -> run(command, "--ca", ca.toString(), "--udp", "127.0.0.1:0", "--no-tcp",
                "--stun6", "::1", "--stun-port", Integer.toString(stunPort)));
        relay.start();
        try (DatagramSocket socket = new DatagramSocket(0, ipv6Loopback)) {
            awaitReady(Pattern.compile("relay ready udp=\\S+ tcp=off"));
            socket.setSoTimeout(5_000);
            byte[] request = StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random()));
            socket.send(new DatagramPacket(request, request.length, ipv6Loopback, stunPort));
            DatagramPacket answer = new DatagramPacket(new byte[1500], 1500);
            socket.receive(answer);
            StunMessage response = StunDecoder.decode(ByteBuffer.wrap(answer.getData(), 0, answer.getLength()));
            assertEquals(socket.getLocalSocketAddress(), response.mappedAddress().orElseThrow(),
                    "the IPv6 reflexive endpoint");
        } finally {
            command.shutdown();
            relay.join(5_000);
        }
    }

    @Test
    void stun6TakesOnlyAnIpv6Address() {
        assertEquals(RelayCommand.EXIT_USAGE, run(new RelayCommand(), "--ca", "x.pem", "--udp", "127.0.0.1:0",
                "--no-tcp", "--stun6", "127.0.0.1"));
        assertTrue(err.toString().contains("--stun6 takes an IPv6 address"), err.toString());
    }

    @Test
    void servesTcpOverTlsFromPemFiles(@TempDir Path directory) throws Exception {
        Path ca = Files.writeString(directory.resolve("ca.pem"), DeviceCertificateIssuer.toPem(devices.ca().caCertificate()));
        TestTls tls = TestTls.selfSigned(InetAddress.getLoopbackAddress());
        Path certificate = directory.resolve("tls.pem");
        Path key = directory.resolve("tls.key");
        tls.writePem(certificate, key);
        RelayCommand command = new RelayCommand();
        Thread relay = new Thread(() -> run(command, "--ca", ca.toString(), "--no-udp", "--tcp", "127.0.0.1:0",
                "--tls-cert", certificate.toString(), "--tls-key", key.toString()));
        relay.start();
        try {
            Matcher ready = awaitReady(Pattern.compile("relay ready udp=off tcp=127.0.0.1:(\\d+)"));
            RelayAddress address = RelayAddress.tcpOnly(new InetSocketAddress("127.0.0.1",
                    Integer.parseInt(ready.group(1)))).withTls(tls.clientFactory());
            try (RelayClient client = RelayClient.start(address, devices.enroll("laptop").credential(), null,
                    (source, payload) -> { }, RelayClientConfig.defaults())) {
                await(() -> client.status().connected(), "client connected over TLS");
            }
        } finally {
            command.shutdown();
            relay.join(5_000);
        }
    }

    @Test
    void advertisesItsTlsPinToControlAndOnlyClientsHoldingThatPinConnect(@TempDir Path directory) throws Exception {
        FakeControl control = new FakeControl(DeviceCertificateIssuer.toPem(devices.ca().caCertificate()));
        TestTls tls = TestTls.selfSigned(InetAddress.getLoopbackAddress());
        TestTls other = TestTls.selfSigned(InetAddress.getLoopbackAddress());
        Path certificate = directory.resolve("tls.pem");
        Path key = directory.resolve("tls.key");
        tls.writePem(certificate, key);
        RelayCommand command = new RelayCommand();
        Thread relay = new Thread(() -> run(command, "--control", control.url(), "--token", "enroll-me",
                "--no-udp", "--tcp", "127.0.0.1:0", "--tls-cert", certificate.toString(), "--tls-key", key.toString()));
        relay.start();
        try {
            Matcher ready = awaitReady(Pattern.compile("relay ready udp=off tcp=127.0.0.1:(\\d+)"));
            String pin = PinnedCertificateTrust.sha256Hex(tls.certificate());
            assertEquals(1, control.registrationBodies.size());
            assertEquals(pin, JSON.readTree(control.registrationBodies.get(0)).path("tlsSha256").asText(),
                    control.registrationBodies.toString());
            assertTrue(out.toString().contains("relay TLS certificate sha256 " + pin), out.toString());
            InetSocketAddress tcp = new InetSocketAddress("127.0.0.1", Integer.parseInt(ready.group(1)));

            RelayAddress pinned = RelayAddress.tcpOnly(tcp).withTls(PinnedCertificateTrust.socketFactory(pin));
            try (RelayClient client = RelayClient.start(pinned, devices.enroll("laptop").credential(), null,
                    (source, payload) -> { }, RelayClientConfig.defaults())) {
                await(() -> client.status().connected(), "client holding the pin connected over TLS");
            }

            RelayAddress wrong = RelayAddress.tcpOnly(tcp).withTls(PinnedCertificateTrust.socketFactory(
                    PinnedCertificateTrust.sha256Hex(other.certificate())));
            try (RelayClient client = RelayClient.start(wrong, devices.enroll("tablet").credential(), null,
                    (source, payload) -> { }, RelayClientConfig.defaults())) {
                await(() -> client.status().state() == RelayStatus.State.BACKING_OFF, "client with a wrong pin gave up");
                assertTrue(client.status().detail().contains("does not match the pin"), client.status().detail());
                assertFalse(client.status().connected());
            }
        } finally {
            command.shutdown();
            relay.join(5_000);
            control.close();
        }
    }

    @Test
    void aPlainRelayAdvertisesNoPin() throws Exception {
        FakeControl control = new FakeControl(DeviceCertificateIssuer.toPem(devices.ca().caCertificate()));
        RelayCommand command = new RelayCommand();
        Thread relay = new Thread(() -> run(command, "--control", control.url(), "--token", "enroll-me",
                "--no-udp", "--tcp", "127.0.0.1:0"));
        relay.start();
        try {
            awaitReady(Pattern.compile("relay ready udp=off tcp=127.0.0.1:(\\d+)"));
            assertFalse(JSON.readTree(control.registrationBodies.get(0)).has("tlsSha256"),
                    "controls that predate pins reject unknown fields: " + control.registrationBodies);
        } finally {
            command.shutdown();
            relay.join(5_000);
            control.close();
        }
    }

    @Test
    void enrollsWithControlAndFollowsItsRevocations() throws Exception {
        FakeControl control = new FakeControl(DeviceCertificateIssuer.toPem(devices.ca().caCertificate()));
        RelayCommand command = new RelayCommand();
        Thread relay = new Thread(() -> run(command, "--control", control.url(), "--token", "enroll-me",
                "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0"));
        relay.start();
        TestDevices.Device device = devices.enroll("laptop");
        try (NettyUdpTransport socket = NettyUdpTransport.bind(new InetSocketAddress("127.0.0.1", 0))) {
            Matcher ready = awaitReady(READY);
            RelayAddress address = RelayAddress.of(
                    new InetSocketAddress(ready.group(1), Integer.parseInt(ready.group(2))),
                    new InetSocketAddress(ready.group(3), Integer.parseInt(ready.group(4))));
            try (RelayClient client = RelayClient.start(address, device.credential(), socket,
                    (source, payload) -> { }, RelayClientConfig.defaults())) {
                await(() -> client.status().connected(), "client connected");
                assertEquals(List.of("Bearer enroll-me"), control.registrations);
                await(() -> control.observationBodies.stream().anyMatch(body -> body.contains("laptop")),
                        "observation reported");
                control.revoked = device.certificate().getSerialNumber().toString(16);
                await(() -> client.status().lastRefusal().equals(Optional.of(AuthStatus.REVOKED)),
                        "revoked client refused");
            }
        } finally {
            command.shutdown();
            relay.join(5_000);
            control.close();
        }
        assertTrue(control.healthBodies.stream().anyMatch(body -> body.contains("\"udpClients\":1")),
                control.healthBodies.toString());
    }

    private Matcher awaitReady(Pattern ready) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            Matcher matcher = ready.matcher(out.toString());
            if (matcher.find()) {
                return matcher;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("relay never ready: " + out + err);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    /** Control's relay API as RelayCommand expects it, recording what it is told. */
    private static final class FakeControl implements AutoCloseable {
        final HttpServer server;
        final List<String> registrations = new CopyOnWriteArrayList<>();
        final List<String> registrationBodies = new CopyOnWriteArrayList<>();
        final List<String> healthBodies = new CopyOnWriteArrayList<>();
        final List<String> observationBodies = new CopyOnWriteArrayList<>();
        volatile String revoked = "";

        FakeControl(String caPem) throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
            server.createContext("/api/v1/relays/register", exchange -> {
                registrations.add(exchange.getRequestHeaders().getFirst("Authorization"));
                registrationBodies.add(body(exchange));
                respond(exchange, "{\"relayId\":\"relay-1\",\"heartbeatSeconds\":1,\"caCertificatePem\":"
                        + quote(caPem) + "}");
            });
            server.createContext("/api/v1/relays/relay-1/health", exchange -> {
                healthBodies.add(body(exchange));
                respond(exchange, "{}");
            });
            server.createContext("/api/v1/relays/relay-1/observations", exchange -> {
                observationBodies.add(body(exchange));
                respond(exchange, "{}");
            });
            server.createContext("/api/v1/relays/relay-1/revocations", exchange ->
                    respond(exchange, revoked.isEmpty() ? "{\"serials\":[]}" : "{\"serials\":[\"" + revoked + "\"]}"));
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        }

        private static String body(HttpExchange exchange) throws IOException {
            return new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        }

        private static void respond(HttpExchange exchange, String body) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        }

        private static String quote(String text) {
            return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\r", "").replace("\n", "\\n") + "\"";
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
