package io.meshwork.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.demo.simulated.Terminal;
import io.meshwork.demo.simulated.TerminalScreen;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@code meshwork demo} prints while paths form, polled as the demo polls its nodes: a pipe gets one line per
 * path change and nothing for a poll that changed nothing; a terminal gets one table redrawn in place.
 */
class PathWatchTest {

    private static final String LONG_WHY = "relay: no direct endpoint answered the probes to 203.0.113.203:40112, "
            + "203.0.113.203:40113 and 10.3.0.10:51820 yet; the next round starts when control sends new endpoints";
    private static final List<PathWatch.PeerPath> RELAYED = List.of(
            new PathWatch.PeerPath("alice", "bob", "relay hub (udp)", "relay: probing"),
            new PathWatch.PeerPath("bob", "alice", "relay hub (udp)", "relay: probing"),
            new PathWatch.PeerPath("alice", "dave", "relay hub (udp)", LONG_WHY));
    private static final List<PathWatch.PeerPath> ALICE_BOB_DIRECT = List.of(
            new PathWatch.PeerPath("alice", "bob", "direct 10.1.0.11:51820", "direct: answered on the LAN"),
            new PathWatch.PeerPath("bob", "alice", "relay hub (udp)", "relay: probing again"),
            new PathWatch.PeerPath("alice", "dave", "relay hub (udp)", LONG_WHY));

    @Test
    void offATerminalEachPathChangeIsOneLineAndAPollWithoutChangePrintsNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PathWatch watch = new PathWatch(new PrintStream(bytes, true, StandardCharsets.UTF_8), Terminal.plain());
        watch.begin(Duration.ofSeconds(25));
        watch.show(Duration.ofMillis(1_000), Duration.ofSeconds(24), RELAYED);
        watch.show(Duration.ofMillis(2_000), Duration.ofSeconds(23), RELAYED);
        watch.show(Duration.ofMillis(12_400), Duration.ofSeconds(13), ALICE_BOB_DIRECT);
        watch.show(Duration.ofMillis(13_400), Duration.ofSeconds(12), ALICE_BOB_DIRECT);
        watch.end(Duration.ofSeconds(25));

        String output = bytes.toString(StandardCharsets.UTF_8);
        List<String> lines = output.lines().toList();
        assertFalse(output.contains("\033"), "no escape sequence off a terminal: " + output);
        assertFalse(output.contains("NODE"), "no table, let alone a repeated one: " + output);
        assertEquals(1 + RELAYED.size() + 1, lines.size(),
                "a heading, each direction's first path, then only alice -> bob going direct: " + output);
        assertTrue(lines.get(1).strip().startsWith("+1.0s  alice -> bob"), lines.get(1));
        assertTrue(lines.get(4).matches(
                "^ *\\+12\\.4s {2}alice -> bob +direct 10\\.1\\.0\\.11:51820 +direct: answered on the LAN$"),
                lines.get(4));
        String dave = lines.get(3);
        assertTrue(dave.contains("alice -> dave") && dave.endsWith("..."), "WHY cut to one line: " + dave);
        assertFalse(output.contains("the next round starts"), output);
    }

    @Test
    void onATerminalOneTableIsRedrawnInPlaceAndLeftOnTheScreenAtTheEnd() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Terminal terminal = new Terminal(true, 90, 40);
        PathWatch watch = new PathWatch(new PrintStream(bytes, true, StandardCharsets.UTF_8), terminal);
        watch.begin(Duration.ofSeconds(25));
        watch.show(Duration.ofMillis(1_000), Duration.ofSeconds(24), RELAYED);
        watch.show(Duration.ofMillis(2_000), Duration.ofSeconds(23), RELAYED);
        watch.show(Duration.ofMillis(12_400), Duration.ofSeconds(13), ALICE_BOB_DIRECT);
        watch.end(Duration.ofSeconds(25));

        String output = bytes.toString(StandardCharsets.UTF_8);
        int frameLines = 1 + RELAYED.size() + 1;
        assertEquals(3, output.split("\033\\[" + frameLines + "A", -1).length - 1,
                "each frame after the first goes back up over the one before");
        assertEquals(4, output.split("NODE ", -1).length - 1, "the table is rendered once per frame");
        assertFalse(output.contains("+12.4s"), "no change lines on a terminal");

        List<String> screen = TerminalScreen.of(output);
        assertEquals(1, screen.stream().filter(line -> line.startsWith("NODE ")).count(), screen.toString());
        assertTrue(screen.get(0).startsWith("Paths as they form, for 25 s"), screen.toString());
        assertTrue(screen.stream().anyMatch(line -> line.contains("direct 10.1.0.11:51820")), screen.toString());
        assertEquals("(watched for 25 s)", screen.get(screen.size() - 1));
        assertEquals(1 + frameLines, screen.size(), "the heading and one table: " + screen);
        for (String line : screen) {
            assertTrue(line.length() <= terminal.columns(), "WHY cut to the width: " + line);
        }
    }
}
