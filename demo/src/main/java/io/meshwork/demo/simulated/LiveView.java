package io.meshwork.demo.simulated;

import io.meshwork.node.tunnel.TunnelStatus;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the simulated demo shows while it runs: on a terminal, a table of every direction redrawn in place each
 * frame ({@link LiveTable}, shared with the demo on network namespaces) with the latest transitions under it;
 * elsewhere (a pipe, a log, a test), one plain line per transition. Those lines keep the whole reason: unlike the
 * demo on network namespaces there is no node to ask with {@code meshwork status} afterwards, so the log is the
 * only record of why each direction moved.
 */
final class LiveView {

    /** Lines of a frame besides the table rows and the transitions: headings and blank lines. */
    private static final int FRAME_CHROME_LINES = 6;
    private static final int MIN_RECENT_TRANSITIONS = 3;

    private static final List<LiveTable.Column> COLUMNS = List.of(new LiveTable.Column("NODE", 6),
            new LiveTable.Column("PEER", 6), new LiveTable.Column("STATE", 8), new LiveTable.Column("PATH", 23),
            new LiveTable.Column("LATENCY", 8), new LiveTable.Column("WHY", 0));

    private final PrintStream out;
    private final Terminal terminal;
    private final List<Direction> directions;
    private final LiveTable table;

    LiveView(PrintStream out, Terminal terminal, List<Direction> directions) {
        this.out = out;
        this.terminal = terminal;
        this.directions = List.copyOf(directions);
        this.table = new LiveTable(out, terminal);
    }

    /** Heads the transition lines (plain output only). */
    void begin() {
        if (!terminal.interactive()) {
            out.println(TransitionLog.Transition.heading());
        }
    }

    /** Shows transitions as they are recorded (plain output only: a terminal sees them in the next frame). */
    void transitions(List<TransitionLog.Transition> fresh) {
        if (!terminal.interactive()) {
            fresh.forEach(transition -> out.println(transition.line()));
            out.flush();
        }
    }

    /** Redraws the table at virtual time {@code now} (terminal only). */
    void frame(Duration now, Duration end, String pace, TransitionLog log) {
        if (!terminal.interactive()) {
            return;
        }
        StringBuilder screen = new StringBuilder(String.format(Locale.ROOT,
                "meshwork demo (simulated): virtual time %s of %s, %s%n%n", Direction.seconds(now),
                Direction.seconds(end), pace));
        screen.append(table());
        List<TransitionLog.Transition> all = log.all();
        screen.append(String.format("%nLatest transitions:%n"));
        int recent = Math.max(MIN_RECENT_TRANSITIONS, terminal.rows() - directions.size() - FRAME_CHROME_LINES);
        all.subList(Math.max(0, all.size() - recent), all.size())
                .forEach(transition -> screen.append(transition.line()).append(System.lineSeparator()));
        table.frame(screen.toString().lines().toList());
    }

    /** Every direction's path, latency, state and reason (on one line: see {@link LiveTable}). */
    String table() {
        List<List<String>> rows = new ArrayList<>();
        for (Direction direction : directions) {
            TunnelStatus status = direction.status();
            rows.add(List.of(direction.from().name(), direction.to().name(),
                    status == null ? "-" : status.state().name(), direction.path(), direction.latency(),
                    status == null ? "" : status.reason()));
        }
        return table.table(COLUMNS, rows);
    }
}
