package io.meshwork.demo;

import io.meshwork.demo.simulated.LiveTable;
import io.meshwork.demo.simulated.Terminal;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code meshwork demo} shows while the paths form: on a terminal, one table of every node's view of its peers
 * redrawn in place each time it is polled ({@link LiveTable}); elsewhere, one line per change of a direction's path,
 * with the time it was seen, and nothing when nothing changed.
 */
final class PathWatch {

    /**
     * One node's view of one peer: {@code path} is "direct ENDPOINT", "relay NAME (TRANSPORT)" or why there is none;
     * {@code why} is the node's reason for it.
     */
    record PeerPath(String node, String peer, String path, String why) {

        String direction() {
            return node + " -> " + peer;
        }
    }

    private static final List<LiveTable.Column> COLUMNS = List.of(new LiveTable.Column("NODE", 6),
            new LiveTable.Column("PEER", 6), new LiveTable.Column("PATH", 28), new LiveTable.Column("WHY", 0));

    private final PrintStream out;
    private final LiveTable table;
    private final Map<String, String> lastPaths = new HashMap<>();
    private List<PeerPath> last = List.of();

    PathWatch(PrintStream out, Terminal terminal) {
        this.out = out;
        this.table = new LiveTable(out, terminal);
    }

    /** Heads what follows: the table on a terminal, the change lines elsewhere. */
    void begin(Duration duration) {
        out.printf(Locale.ROOT, "Paths as they form, for %d s (full reasons: meshwork status):%n",
                duration.toSeconds());
        out.flush();
    }

    /** Shows the paths polled {@code elapsed} after the watch began, with {@code left} still to watch. */
    void show(Duration elapsed, Duration left, List<PeerPath> paths) {
        last = List.copyOf(paths);
        if (table.interactive()) {
            table.frame(frame(String.format(Locale.ROOT, "(watching for %d s more)", Math.max(0, left.toSeconds()))));
            return;
        }
        for (PeerPath path : paths) {
            String before = lastPaths.put(path.direction(), path.path());
            if (!path.path().equals(before)) {
                table.change(elapsed, path.direction(), path.path(), path.why());
            }
        }
    }

    /** Leaves the last table on a terminal, saying how long it was watched. */
    void end(Duration watched) {
        if (table.interactive()) {
            table.frame(frame(String.format(Locale.ROOT, "(watched for %d s)", watched.toSeconds())));
        }
    }

    private List<String> frame(String footer) {
        List<List<String>> rows = new ArrayList<>();
        for (PeerPath path : last) {
            rows.add(List.of(path.node(), path.peer(), path.path(), path.why()));
        }
        List<String> lines = new ArrayList<>(table.table(COLUMNS, rows).lines().toList());
        lines.add(footer);
        return lines;
    }
}
