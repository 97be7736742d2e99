package io.meshwork.demo.simulated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The demos' live table: on a terminal each frame replaces the last in place, so the screen holds one table however
 * many frames were drawn; off a terminal no escape sequence is written; WHY never takes more than one line.
 */
class LiveTableTest {

    private static final List<LiveTable.Column> COLUMNS = List.of(new LiveTable.Column("NODE", 6),
            new LiveTable.Column("PEER", 6), new LiveTable.Column("PATH", 20), new LiveTable.Column("WHY", 0));
    private static final String LONG_WHY = "relay: probes sent to 203.0.113.201:41641 and 10.1.0.11:41641 got no "
            + "answer\nwithin 5 s, so the tunnel stays on the relay until the next endpoint report";

    @Test
    void onATerminalEachFrameIsDrawnOverTheLastOneAndTheScreenHoldsOneTable() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Terminal terminal = new Terminal(true, 80, 40);
        LiveTable table = new LiveTable(new PrintStream(bytes, true, StandardCharsets.UTF_8), terminal);
        bytes.writeBytes("meshwork demo: a line printed before the table\n".getBytes(StandardCharsets.UTF_8));

        List<List<String>> first = List.of(List.of("alice", "bob", "no path yet", "starting"),
                List.of("bob", "alice", "no path yet", "starting"));
        List<List<String>> second = List.of(List.of("alice", "bob", "relay hub (udp)", LONG_WHY),
                List.of("bob", "alice", "relay hub (udp)", "relay: probing"));
        List<List<String>> third = List.of(List.of("alice", "bob", "direct 10.1.0.11:41641", "direct: answered"));
        int frames = 0;
        for (List<List<String>> rows : List.of(first, second, third)) {
            List<String> lines = new ArrayList<>(table.table(COLUMNS, rows).lines().toList());
            lines.add("(frame " + ++frames + ")");
            table.frame(lines);
        }
        String output = bytes.toString(StandardCharsets.UTF_8);

        Matcher up = Pattern.compile("\033\\[(\\d+)A").matcher(output);
        List<Integer> ups = new ArrayList<>();
        while (up.find()) {
            ups.add(Integer.parseInt(up.group(1)));
        }
        assertEquals(List.of(4, 4), ups, "every frame after the first goes back up over the whole last frame");
        assertEquals(frames, occurrences(output, "NODE "), "the table is rendered once per frame");

        List<String> screen = TerminalScreen.of(output);
        assertEquals("meshwork demo: a line printed before the table", screen.get(0), "what came before stays");
        assertEquals(1, screen.stream().filter(line -> line.startsWith("NODE ")).count(),
                "one table on the screen, never one appended under another: " + screen);
        assertTrue(screen.stream().anyMatch(line -> line.contains("direct 10.1.0.11:41641")), screen.toString());
        assertFalse(screen.stream().anyMatch(line -> line.contains("relay hub (udp)") || line.contains("(frame 2)")),
                "nothing of an earlier, taller frame is left below the last one: " + screen);
        assertEquals("(frame 3)", screen.get(screen.size() - 1));
        for (String line : output.split("\\R")) {
            String visible = line.replaceAll("\033\\[\\d*[AKJ]", "").replace("\r", "");
            assertTrue(visible.length() <= terminal.columns(), "fits the width: " + visible);
        }
        String cutWhy = output.lines().filter(line -> line.contains("relay: probes sent to")).findFirst().orElseThrow()
                .replace("\033[K", "");
        assertTrue(cutWhy.endsWith("..."), "a long WHY is cut at the width, with an ellipsis: " + cutWhy);
        assertFalse(output.contains("next endpoint report"), "and stays on one line");
    }

    @Test
    void aFrameTallerThanTheScreenIsCutSoTheCursorCanGoBackOverIt() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        LiveTable table = new LiveTable(new PrintStream(bytes, true, StandardCharsets.UTF_8),
                new Terminal(true, 80, 5));
        List<String> tall = List.of("1", "2", "3", "4", "5", "6", "7");
        table.frame(tall);
        table.frame(tall);

        String output = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(output.contains("\033[4A"), output);
        assertEquals(List.of("1", "2", "3", "4"), TerminalScreen.of(output));
    }

    @Test
    void offATerminalChangesAreLinesWithTheirTimeAndNoEscapeSequence() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        LiveTable table = new LiveTable(new PrintStream(bytes, true, StandardCharsets.UTF_8), Terminal.plain());
        table.frame(List.of("NODE PEER PATH WHY", "alice bob relay"));
        table.change(Duration.ofMillis(12_400), "laptop -> db", "direct 10.0.0.3:51820", "direct: answered");
        table.change(Duration.ofMillis(13_000), "db -> laptop", "relay hub (udp)", LONG_WHY);

        String output = bytes.toString(StandardCharsets.UTF_8);
        List<String> lines = output.lines().toList();
        assertFalse(output.contains("\033"), "no escape sequence off a terminal: " + output);
        assertEquals(2, lines.size(), "one line per change and no frame: " + output);
        assertTrue(lines.get(0).matches(
                "^ *\\+12\\.4s {2}laptop -> db +direct 10\\.0\\.0\\.3:51820 +direct: answered$"),
                lines.get(0));
        assertTrue(lines.get(1).strip().startsWith("+13.0s  db -> laptop"), lines.get(1));
        String why = lines.get(1).substring(lines.get(1).indexOf("relay: probes"));
        assertEquals(LiveTable.PLAIN_WHY_WIDTH, why.length(), why);
        assertTrue(why.endsWith("..."), why);
    }

    @Test
    void offATerminalATableKeepsWhyToOneCutLine() {
        LiveTable table = new LiveTable(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                Terminal.plain());
        List<String> lines = table.table(COLUMNS, List.of(List.of("alice", "bob", "relay hub (udp)", LONG_WHY)))
                .lines().toList();

        assertEquals(2, lines.size(), "a heading and one line per row: " + lines);
        assertTrue(lines.get(1).endsWith("..."), lines.get(1));
        assertEquals(LiveTable.PLAIN_WHY_WIDTH, lines.get(1).substring(lines.get(1).indexOf("relay: probes")).length());
    }

    private static int occurrences(String text, String part) {
        int count = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
            count++;
        }
        return count;
    }
}
