package io.meshwork.node.netcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.meshwork.node.cli.NetcheckCommand;
import io.meshwork.protocol.stun.StunServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** {@code meshwork netcheck} through picocli, against meshwork's STUN server on loopback. */
class NetcheckCommandTest {

    private static StunServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = StunServer.startOnFreePort(InetAddress.getByName("127.0.0.1"),
                Optional.of(InetAddress.getByName("127.0.0.2")), "meshwork test");
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private record Outcome(int exitCode, String out, String err) {
    }

    private static Outcome run(Config config, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new NetcheckCommand(() -> config));
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        // Never ask the build host's own gateway: port mapping is proven against miniupnpd in PortMappingLabTest.
        String[] withoutPortMapping = java.util.Arrays.copyOf(args, args.length + 1);
        withoutPortMapping[args.length] = "--no-port-mapping";
        int exitCode = commandLine.execute(withoutPortMapping);
        return new Outcome(exitCode, out.toString(), err.toString());
    }

    private static Outcome run(String... args) {
        return run(ConfigFactory.load(), args);
    }

    private static String primary() {
        return "127.0.0.1:" + server.addresses().port();
    }

    @Test
    void jsonReportAgainstAnRfc5780Server() throws Exception {
        Outcome outcome = run("--stun", primary(), "--json", "--timeout", "3s", "--bind", "127.0.0.1:0");
        assertEquals(NetcheckCommand.EXIT_REPORT, outcome.exitCode(), outcome.err());
        JsonNode json = new ObjectMapper().readTree(outcome.out());
        assertTrue(json.get("udp").asBoolean());
        assertEquals(1, json.get("publicEndpoints").size());
        assertTrue(json.get("publicEndpoints").get(0).asText().startsWith("127.0.0.1:"));
        assertEquals("ENDPOINT_INDEPENDENT", json.get("mapping").asText());
        assertEquals("ENDPOINT_INDEPENDENT", json.get("filtering").asText());
        assertTrue(json.get("portPreserving").asBoolean());
        assertTrue(json.get("hairpin").asBoolean());
        assertTrue(json.get("noNat").asBoolean());
        assertEquals("open", json.get("classic").asText());
        assertEquals("127.0.0.2:" + (server.addresses().port() + 1),
                json.get("servers").get(0).get("otherAddress").asText());
    }

    @Test
    void readableReport() {
        Outcome outcome = run("--stun", primary(), "--timeout", "3s", "--bind", "127.0.0.1:0");
        assertEquals(NetcheckCommand.EXIT_REPORT, outcome.exitCode(), outcome.err());
        assertTrue(outcome.out().contains("UDP:              reachable"), outcome.out());
        assertTrue(outcome.out().contains("NAT:              none (open)"), outcome.out());
        assertTrue(outcome.out().contains("Filtering:        endpoint-independent"), outcome.out());
    }

    @Test
    void serversComeFromConfigWhenNoneAreGiven() throws Exception {
        Config config = ConfigFactory.parseString(
                "meshwork.netcheck.stun-servers = [\"" + primary() + "\"]\nmeshwork.netcheck.timeout = 3s");
        Outcome outcome = run(config, "--json", "--bind", "127.0.0.1:0");
        assertEquals(NetcheckCommand.EXIT_REPORT, outcome.exitCode(), outcome.err());
        assertEquals(primary(), new ObjectMapper().readTree(outcome.out()).get("servers").get(0).get("server").asText());
    }

    @Test
    void serversComeFromWhatControlHandedTheNodeWhenNoneAreConfigured() throws Exception {
        java.nio.file.Path state = java.nio.file.Files.createTempDirectory("mw-netcheck-state");
        new io.meshwork.node.agent.NodeIdentity("http://control.example", "laptop", "unused",
                new io.meshwork.protocol.api.RegisterResponse("d1", "o1", "mwd.x", java.util.List.of("100.64.0.2"),
                        null, null, java.util.List.of(), java.util.List.of(primary()), null, "active"))
                .save(state);
        Outcome outcome = run(ConfigFactory.parseString("meshwork.netcheck.timeout = 3s").withFallback(ConfigFactory.load()),
                "--json", "--bind", "127.0.0.1:0", "--state", state.toString());
        assertEquals(NetcheckCommand.EXIT_REPORT, outcome.exitCode(), outcome.err());
        assertEquals(primary(), new ObjectMapper().readTree(outcome.out()).get("servers").get(0).get("server").asText());
        assertEquals("ENDPOINT_INDEPENDENT", new ObjectMapper().readTree(outcome.out()).get("mapping").asText());
    }

    @Test
    void emptyConfiguredListIsAUsageError() throws Exception {
        Outcome outcome = run(ConfigFactory.load(), "--json", "--state",
                java.nio.file.Files.createTempDirectory("mw-netcheck-nostate").toString());
        assertEquals(NetcheckCommand.EXIT_USAGE, outcome.exitCode());
        assertTrue(outcome.err().contains("no STUN servers"), outcome.err());
        assertTrue(outcome.err().contains("meshwork.netcheck.stun-servers"), outcome.err());
    }

    @Test
    void silentServerMeansUdpBlocked() throws Exception {
        int silentPort;
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            silentPort = socket.getLocalPort();
        }
        Outcome outcome = run("--stun", "127.0.0.1:" + silentPort, "--json", "--timeout", "1s");
        assertEquals(NetcheckCommand.EXIT_NO_ANSWER, outcome.exitCode());
        JsonNode json = new ObjectMapper().readTree(outcome.out());
        assertEquals(false, json.get("udp").asBoolean());
        assertEquals("blocked", json.get("classic").asText());
        assertTrue(outcome.err().contains("no STUN server answered"), outcome.err());
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
        "--stun    | 127.0.0.1:99999        | outside 0-65535",
        "--stun    | 127.0.0.1:http         | is not a number",
        "--stun    | 127.0.0.1:0            | port 0",
        "--stun    | no-such-host.invalid:3478 | cannot resolve host 'no-such-host.invalid'",
        "--stun    | 2001:db8::1:3478       | brackets",
        "--stun    | '[2001:db8::1'         | missing ']'",
        "--stun    | ':3478'                | missing host",
        "--timeout | soon                   | give a unit",
        "--timeout | -5s                    | between",
        "--timeout | 10h                    | give a unit",
        "--timeout | PT-1S                  | between",
        "--bind    | 127.0.0.1:70000        | outside 0-65535",
    })
    void badArgumentsAreOneLineUsageErrors(String option, String value, String message) {
        Outcome outcome = option.equals("--stun") ? run(option, value)
                : run("--stun", primary(), option, value);
        assertEquals(NetcheckCommand.EXIT_USAGE, outcome.exitCode(), outcome.out());
        assertTrue(outcome.err().contains(message), outcome.err());
        assertEquals(1, outcome.err().strip().lines().count(), outcome.err());
    }

    @Test
    void unbindableAddressIsAUsageError() {
        Outcome outcome = run("--stun", primary(), "--bind", "192.0.2.123:0");
        assertEquals(NetcheckCommand.EXIT_USAGE, outcome.exitCode());
        assertTrue(outcome.err().contains("cannot bind"), outcome.err());
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertEquals(NetcheckCommand.EXIT_USAGE, run("--frobnicate").exitCode());
    }
}
