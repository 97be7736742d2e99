package io.meshwork.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.node.local.LocalApiHandler;
import io.meshwork.node.local.LocalApiServer;
import io.meshwork.node.local.NodeStatus;
import io.meshwork.node.local.PingReply;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class StatusAndPingCommandTest {

    private static final NodeStatus STATUS = new NodeStatus(
            new NodeStatus.Self("dev-1", "alpha", List.of("100.64.0.1", "fd7a::1"),
                    Map.of("classic", "port-restricted cone")),
            List.of(
                    new NodeStatus.Peer("dev-2", "beta", List.of("100.64.0.2"), "direct", "203.0.113.7:41641",
                            null, "udp", 1.52, "2026-11-25T03:00:00Z", 2048, 100, "direct probe answered"),
                    new NodeStatus.Peer("dev-3", "gamma", List.of("100.64.0.3"), "relay", null, "relay-eu",
                            "tcp", null, null, 0, 0,
                            "UDP is blocked on this network; relaying over TCP")));

    /** Answers pings to "beta" on the relay, the first one lost. */
    private static final LocalApiHandler AGENT = new LocalApiHandler() {
        @Override
        public NodeStatus status() {
            return STATUS;
        }

        @Override
        public void ping(String peer, int count, Consumer<PingReply> replies) {
            if (!peer.equals("beta")) {
                throw new IllegalArgumentException("no peer \"" + peer + "\"");
            }
            replies.accept(new PingReply(1, peer, "timeout", null, null));
            for (int seq = 2; seq <= count; seq++) {
                replies.accept(new PingReply(seq, peer, "direct", "203.0.113.7:41641", 1.25));
            }
        }

        @Override
        public void shutdown() {}
    };

    @Test
    void aDeviceWaitingForApprovalSaysSo() {
        NodeStatus waiting = new NodeStatus(new NodeStatus.Self("dev-9", "newcomer", List.of("100.64.0.9"), Map.of(),
                "waiting for an administrator to approve this device"), List.of());
        String text = StatusCommand.render(waiting, Instant.parse("2026-11-25T03:00:07Z"));
        assertTrue(text.contains("control: waiting for an administrator to approve this device"), text);
        assertTrue(text.contains("no peers yet"), text);
        assertFalse(StatusCommand.render(STATUS, Instant.parse("2026-11-25T03:00:07Z")).contains("control:"),
                "a connected node says nothing about control");
    }

    @Test
    void theSelfSectionShowsThePortMapping() {
        NodeStatus mapped = new NodeStatus(new NodeStatus.Self("dev-1", "alpha", List.of("100.64.0.1"), Map.of(),
                "connected", null, new NodeStatus.PortMapping("pcp", "192.0.3.201:51820", "10.1.0.1",
                        "2026-11-25T05:00:07Z")), List.of());
        String text = StatusCommand.render(mapped, Instant.parse("2026-11-25T03:01:07Z"));
        assertEquals("port mapping: PCP 192.0.3.201:51820 via gateway 10.1.0.1, expires in 1h59m",
                text.lines().toList().get(1), text);
        assertFalse(StatusCommand.render(STATUS, Instant.parse("2026-11-25T03:00:07Z")).contains("port mapping"),
                "no mapping, no line");
    }

    @Test
    void theSelfSectionNamesTheHomeRelayWithItsLatencyAndTheOthers() {
        java.util.Map<String, Double> latencies = new java.util.LinkedHashMap<>();
        latencies.put("relay-eu", 12.34);
        latencies.put("relay-us", 96.0);
        NodeStatus homed = new NodeStatus(new NodeStatus.Self("dev-1", "alpha", List.of("100.64.0.1"), Map.of(),
                "connected", null, null, new NodeStatus.HomeRelay("relay-eu", 12.34, "udp", latencies)), List.of());
        String text = StatusCommand.render(homed, Instant.parse("2026-11-25T03:01:07Z"));
        assertEquals("home relay: relay-eu (12.3 ms, udp); others: relay-us 96.0 ms", text.lines().toList().get(1),
                text);
        NodeStatus unmeasured = new NodeStatus(new NodeStatus.Self("dev-1", "alpha", List.of("100.64.0.1"), Map.of(),
                "connected", null, null, new NodeStatus.HomeRelay("relay-eu", null, null, Map.of())), List.of());
        assertEquals("home relay: relay-eu (connecting)", StatusCommand.render(unmeasured,
                Instant.parse("2026-11-25T03:01:07Z")).lines().toList().get(1));
        assertFalse(StatusCommand.render(STATUS, Instant.parse("2026-11-25T03:00:07Z")).contains("home relay"),
                "no relay, no line");
    }

    @Test
    void rendersEachPeersPathAndReason() {
        String text = StatusCommand.render(STATUS, Instant.parse("2026-11-25T03:00:07Z"));
        List<String> lines = text.lines().toList();
        assertEquals("alpha  100.64.0.1, fd7a::1  id dev-1  NAT: port-restricted cone", lines.get(0));
        assertTrue(lines.get(1).startsWith("PEER "), text);
        assertTrue(lines.get(2).matches("beta +100\\.64\\.0\\.2 +direct 203\\.0\\.113\\.7:41641 +1\\.5 ms +7s ago"
                + " +2\\.0 KiB +100 B +direct probe answered"), lines.get(2));
        assertTrue(lines.get(3).matches("gamma +100\\.64\\.0\\.3 +relay relay-eu \\(tcp\\) +- +never +0 B +0 B"
                + " +UDP is blocked on this network; relaying over TCP"), lines.get(3));
    }

    @Test
    void showsThePeersTagsWhenSomeHaveTags() {
        NodeStatus tagged = new NodeStatus(STATUS.self(), List.of(
                new NodeStatus.Peer("dev-2", "beta", List.of("100.64.0.2"), "direct", "203.0.113.7:41641", null,
                        "udp", 1.52, "2026-11-25T03:00:00Z", 2048, 100, "direct probe answered", List.of("db", "prod")),
                STATUS.peers().get(1)));
        List<String> lines = StatusCommand.render(tagged, Instant.parse("2026-11-25T03:00:07Z")).lines().toList();
        assertTrue(lines.get(1).matches("PEER +TAGS +OVERLAY IP .*"), lines.get(1));
        assertTrue(lines.get(2).matches("beta +db,prod +100\\.64\\.0\\.2 +direct .*"), lines.get(2));
        assertTrue(lines.get(3).matches("gamma +- +100\\.64\\.0\\.3 +relay .*"), lines.get(3));
    }

    @Test
    void jsonStatusHasTheContractFields(@TempDir Path state) throws Exception {
        try (LocalApiServer server = LocalApiServer.start(state, AGENT)) {
            Run run = run(new StatusCommand(), "--state", state.toString(), "--json");
            assertEquals(0, run.exitCode, run.err);
            JsonNode json = new ObjectMapper().readTree(run.out);
            assertEquals("alpha", json.at("/self/hostname").asText());
            JsonNode peer = json.at("/peers/1");
            for (String field : List.of("id", "hostname", "overlayIps", "path", "endpoint", "relay", "transport",
                    "latencyMs", "lastHandshake", "rxBytes", "txBytes", "reason")) {
                assertTrue(peer.has(field), "missing " + field + " in " + peer);
            }
            assertEquals("relay", peer.get("path").asText());
            assertEquals("tcp", peer.get("transport").asText());
        }
    }

    @Test
    void pingPrintsThePathOfEachReplyAndExitsByOutcome(@TempDir Path state) throws Exception {
        try (LocalApiServer server = LocalApiServer.start(state, AGENT)) {
            Run ok = run(new PingCommand(), "--state", state.toString(), "-c", "3", "beta");
            assertEquals(0, ok.exitCode, ok.err);
            assertEquals(List.of("no reply from beta (seq 1)",
                    "pong from beta via direct 203.0.113.7:41641 in 1.3 ms",
                    "pong from beta via direct 203.0.113.7:41641 in 1.3 ms"), ok.out.lines().toList());

            Run lost = run(new PingCommand(), "--state", state.toString(), "-c", "1", "beta");
            assertEquals(ExitCodes.NEGATIVE, lost.exitCode);

            Run unknown = run(new PingCommand(), "--state", state.toString(), "nobody");
            assertEquals(ExitCodes.USAGE, unknown.exitCode);
            assertTrue(unknown.err.contains("no peer \"nobody\""), unknown.err);
        }
    }

    @Test
    void withoutAnAgentTheCommandsSaySoAndExitThree(@TempDir Path state) {
        for (Object command : List.of(new StatusCommand(), new PingCommand(), new NodeDownCommand())) {
            String[] args = command instanceof PingCommand
                    ? new String[] {"--state", state.toString(), "beta"}
                    : new String[] {"--state", state.toString()};
            Run run = run(command, args);
            assertEquals(ExitCodes.NO_AGENT, run.exitCode, command.getClass().getSimpleName());
            assertTrue(run.err.contains("no agent is running here"), run.err);
        }
    }

    private record Run(int exitCode, String out, String err) {}

    private static Run run(Object command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(command);
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }
}
