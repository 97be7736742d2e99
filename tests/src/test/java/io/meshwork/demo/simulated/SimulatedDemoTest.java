package io.meshwork.demo.simulated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.simulation.NatPreset;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The simulated {@code meshwork demo}, run as a pipe would see it: each direction ends on the path its sites' NATs
 * allow and carries data, the summary says so, and the transition log is complete: every direction's transitions
 * chain from its first status to its last, in virtual-time order, the last one naming the final reason.
 */
class SimulatedDemoTest {

    private static final long SEED = 20261125L;
    private static final Pattern TRANSITION = Pattern.compile(
            "^\\s*(\\d+\\.\\d{3}) s {2}(\\w+) -> (\\w+)\\s+(\\(new\\)|RELAYED|PROBING|DIRECT)\\s+-> (RELAYED|PROBING|DIRECT)"
                    + "\\s+(direct \\S+|relay \\((?:udp|tcp)\\))\\s+(.*)$");

    private record Run(SimulatedDemo.Result result, String output) {}

    private record Logged(double seconds, String from, String to, String path, String reason) {}

    @Test
    void everyPairExchangesDataOnThePathItsNatsAllowAndEveryTransitionIsNamed() throws Exception {
        Run run = run(SEED, Duration.ofSeconds(25), Terminal.plain());
        String output = run.output();
        SimulatedDemo.Result result = run.result();

        assertEquals(0, result.exitCode(), output);
        int nodes = DemoScenario.SITES.stream().mapToInt(site -> site.nodes().size()).sum();
        assertEquals(nodes * (nodes - 1), result.outcomes().size(), "every ordered pair is a direction");
        long expectDirect = 0;
        for (SimulatedDemo.Outcome outcome : result.outcomes()) {
            boolean direct = directPossible(presetOf(outcome.from()), presetOf(outcome.to()));
            expectDirect += direct ? 1 : 0;
            String name = outcome.from() + " -> " + outcome.to();
            assertEquals(direct ? TunnelStatus.State.DIRECT : TunnelStatus.State.RELAYED, outcome.state(),
                    name + ": " + outcome.reason());
            assertTrue(outcome.delivered(), name + " delivered nothing on " + outcome.path());
            boolean udpBlocked = presetOf(outcome.from()) == NatPreset.UDP_BLOCKED
                    || presetOf(outcome.to()) == NatPreset.UDP_BLOCKED;
            if (!direct) {
                assertEquals(udpBlocked ? "relay (tcp)" : "relay (udp)", outcome.path(), name);
            }
            assertTrue(output.contains(String.format("  %-6s -> %-6s %d/%d delivered via %s", outcome.from(),
                    outcome.to(), SimulatedDemo.DATAGRAMS, SimulatedDemo.DATAGRAMS, outcome.path())), name);
        }
        assertTrue(output.contains(String.format("Summary: %d directions direct, %d through the relay, "
                + "0 without delivery.", expectDirect, result.outcomes().size() - expectDirect)), output);

        Map<String, List<String[]>> chains = transitionsByDirection(output);
        for (SimulatedDemo.Outcome outcome : result.outcomes()) {
            String name = outcome.from() + " -> " + outcome.to();
            List<String[]> chain = chains.get(name);
            assertTrue(chain != null && !chain.isEmpty(), "no transition logged for " + name);
            assertEquals("(new)", chain.get(0)[0], name + " starts with its first status");
            for (int i = 1; i < chain.size(); i++) {
                assertEquals(chain.get(i - 1)[1], chain.get(i)[0], name + ": transition " + i + " does not follow "
                        + "from the one before, so one was missed");
            }
            String[] last = chain.get(chain.size() - 1);
            assertEquals(outcome.state().name(), last[1], name + " ends in its final state");
            assertEquals(outcome.reason(), last[3], name + "'s last transition names its reason");
            assertEquals(outcome.path(), last[2], name + "'s last transition names its path");
            if (outcome.firstDirect() != null) {
                String[] firstDirect = chain.stream().filter(t -> t[1].equals("DIRECT")).findFirst().orElseThrow();
                assertEquals(Direction.seconds(outcome.firstDirect()), firstDirect[4] + " s",
                        name + " going direct is logged at the virtual instant it happened");
            }
        }
        assertTrue(output.contains("direct: endpoint found by port prediction"),
                "the sequential symmetric NAT is opened by port prediction");
    }

    @Test
    void oneSeedGivesOneRun() throws Exception {
        Duration settle = Duration.ofSeconds(10);
        assertEquals(run(7, settle, Terminal.plain()).output(), run(7, settle, Terminal.plain()).output());
    }

    @Test
    void onATerminalEachFrameIsRedrawnInPlaceWithinTheScreen() throws Exception {
        Terminal terminal = new Terminal(true, 100, 45);
        String output = run(3, Duration.ofSeconds(5), terminal).output();

        // Every frame ends by clearing what is below it; what follows the last one is the data exchange.
        String[] frames = output.split("\033\\[J", -1);
        assertEquals(5 * 4 + 1, frames.length, "one frame per 250 ms of virtual time, then the data exchange");
        int shown = frames[0].lines().filter(line -> line.endsWith("\033[K")).toList().size();
        for (int i = 1; i < frames.length - 1; i++) {
            assertTrue(frames[i].startsWith("\033[" + shown + "A\r"), "frame " + i + " starts over the last one");
            List<String> lines = frames[i].substring(frames[i].indexOf('\r') + 1).lines().toList();
            shown = lines.size();
            assertTrue(lines.size() < terminal.rows(), "frame " + i + " fits the screen: " + lines.size() + " lines");
            for (String line : lines) {
                String visible = line.replaceAll("\033\\[\\d*[AK]", "").replace("\r", "");
                assertTrue(visible.length() <= terminal.columns(), "cut to the width: " + visible);
            }
        }
        List<String> screen = TerminalScreen.of(output);
        assertEquals(1, screen.stream().filter(line -> line.startsWith("NODE ")).count(),
                "one table on the screen: " + screen);
        assertTrue(screen.stream().anyMatch(line -> line.contains("virtual time 5.000 s of 5.000 s")),
                screen.toString());
        assertFalse(output.contains("VIRTUAL  DIRECTION"), "no plain transition lines on a terminal");
    }

    /** Each direction's logged transitions as {from, to, path, reason, seconds}, checking they come in time order. */
    private static Map<String, List<String[]>> transitionsByDirection(String output) {
        Map<String, List<String[]>> chains = new HashMap<>();
        List<Logged> logged = new ArrayList<>();
        for (String line : output.lines().toList()) {
            Matcher matcher = TRANSITION.matcher(line);
            if (matcher.matches()) {
                String name = matcher.group(2) + " -> " + matcher.group(3);
                chains.computeIfAbsent(name, key -> new ArrayList<>()).add(new String[] {matcher.group(4),
                        matcher.group(5), matcher.group(6), matcher.group(7), matcher.group(1)});
                logged.add(new Logged(Double.parseDouble(matcher.group(1)), matcher.group(2), matcher.group(3),
                        matcher.group(6), matcher.group(7)));
            }
        }
        for (int i = 1; i < logged.size(); i++) {
            assertTrue(logged.get(i - 1).seconds() <= logged.get(i).seconds(), "in virtual-time order: " + logged.get(i));
        }
        return chains;
    }

    private static Run run(long seed, Duration settle, Terminal terminal) throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        SimulatedDemo.Result result = new SimulatedDemo(new SimulatedDemo.Options(seed, settle,
                Duration.ofMillis(250), 0, terminal), out).run();
        return new Run(result, bytes.toString(StandardCharsets.UTF_8));
    }

    private static NatPreset presetOf(String node) {
        return DemoScenario.SITES.stream().filter(site -> site.nodes().contains(node)).findFirst().orElseThrow().nat();
    }

    /**
     * What RFC 4787 behaviours allow between the demo's sites: nothing direct where UDP is blocked or both map
     * per destination; a random-port symmetric NAT against a port-restricted filter never meets; a sequential one
     * is found by port prediction; two endpoint-independent NATs (or one LAN) always connect.
     */
    private static boolean directPossible(NatPreset a, NatPreset b) {
        if (a == NatPreset.UDP_BLOCKED || b == NatPreset.UDP_BLOCKED) {
            return false;
        }
        boolean aSymmetric = a == NatPreset.SYMMETRIC_RANDOM || a == NatPreset.SYMMETRIC_SEQUENTIAL;
        boolean bSymmetric = b == NatPreset.SYMMETRIC_RANDOM || b == NatPreset.SYMMETRIC_SEQUENTIAL;
        if (aSymmetric && bSymmetric) {
            return false;
        }
        return a != NatPreset.SYMMETRIC_RANDOM && b != NatPreset.SYMMETRIC_RANDOM;
    }
}
