package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.cli.NodeCommand;
import io.meshwork.node.local.NodeStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code node up --relay}: which address the node's relay is advertised at, the flags' checks, and how
 * {@code meshwork status} says whether the node relays.
 */
class NodeRelayRunnerTest {

    private static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    @Test
    void theGivenAddressWinsThenStunsThenAfterStunHadItsChanceALocalOne() throws Exception {
        List<String> local = List.of("10.0.0.5");
        assertEquals(Optional.of(ip("198.51.100.9")), NodeRelayRunner.advertised(ip("198.51.100.9"),
                Set.of("203.0.113.20"), true, () -> local));
        assertEquals(Optional.of(ip("203.0.113.20")), NodeRelayRunner.advertised(null, Set.of("203.0.113.20"),
                false, () -> local));
        assertEquals(Optional.empty(), NodeRelayRunner.advertised(null, Set.of(), false, () -> local),
                "it waits for STUN first");
        assertEquals(Optional.of(ip("10.0.0.5")), NodeRelayRunner.advertised(null, Set.of("not an ip"), true,
                () -> local));
        assertEquals(Optional.empty(), NodeRelayRunner.advertised(null, Set.of(), true, List::of));
    }

    @Test
    void theOrganizationComesFromTheRegistrationOrTheDeviceId() {
        assertEquals("oabc", NodeRelayRunner.organizationOf("oabc-d123", "oabc"));
        assertEquals("oabc", NodeRelayRunner.organizationOf("oabc-d123", null));
    }

    @Test
    void statusSaysWhetherTheNodeRelaysAndForHowManyClients() {
        NodeStatus.Self self = new NodeStatus.Self("o-d1", "edge", List.of("100.64.0.1"), java.util.Map.of());
        String relaying = io.meshwork.node.cli.StatusRendering.render(new NodeStatus(self, List.of(),
                null, new NodeStatus.RelayService("relaying", "203.0.113.20:3340", 2, 1, 1, "relaying"), null));
        assertTrue(relaying.contains("relay service: relaying at 203.0.113.20:3340 for this organization, 2 clients "
                + "(1 udp, 1 tcp)\n"), relaying);
        String refused = io.meshwork.node.cli.StatusRendering.render(new NodeStatus(self, List.of(),
                null, new NodeStatus.RelayService("not allowed", null, 0, 0, 0,
                        "control has not allowed this device to relay"), null));
        assertTrue(refused.contains("relay service: not relaying (not allowed): control has not allowed this device "
                + "to relay\n"), refused);
        String none = io.meshwork.node.cli.StatusRendering.render(new NodeStatus(self, List.of()));
        assertFalse(none.contains("relay service"), none);
    }

    @Test
    void badRelayFlagsAreUsageErrorsInOneLine() throws Exception {
        Path state = Files.createTempDirectory("mw-relay-flags");
        for (List<String> args : List.of(List.of("--relay", "--relay-port", "70000"),
                List.of("--relay", "--relay-public-address", "not-an-ip"),
                List.of("--relay", "--relay-public-address", "0.0.0.0"),
                List.of("--relay-public-address", "203.0.113.20"))) {
            StringWriter err = new StringWriter();
            CommandLine command = new CommandLine(new NodeCommand());
            command.setErr(new PrintWriter(err, true));
            List<String> full = new java.util.ArrayList<>(List.of("up", "--state", state.toString(), "--key",
                    "mwk.org.k.s", "--control", "http://control.example:8080"));
            full.addAll(args);
            assertEquals(2, command.execute(full.toArray(new String[0])), args + ": " + err);
            assertTrue(err.toString().startsWith("meshwork node up: "), err.toString());
            assertFalse(err.toString().strip().contains("\n"), err.toString());
        }
    }
}
