package io.meshwork.tests.sim.demo;

import io.meshwork.node.tunnel.TunnelStatus;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * What the simulated demo shows while it runs: on a terminal, a table of every direction redrawn each frame with
 * the latest transitions under it; elsewhere (a pipe, a log, a test), one plain line per transition.
 */
final class LiveView {

    /** Lines of a frame besides the table rows and the transitions: headings and blank lines. */
    private static final int FRAME_CHROME_LINES = 6;
    private static final int MIN_RECENT_TRANSITIONS = 3;

    private final PrintStream out;
    private final Terminal terminal;
    private final List<Direction> directions;

    LiveView(PrintStream out, Terminal terminal, List<Direction> directions) {
        this.out = out;
        this.terminal = terminal;
        this.directions = List.copyOf(directions);
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
        // Overwrite in place (cursor home, each line cut to the width and its rest cleared, then clear below)
        // rather than clearing the whole screen first: no flicker at several frames a second, and no wrapped line
        // pushes the frame off the screen.
        StringBuilder frame = new StringBuilder("\033[H");
        screen.toString().lines().forEach(line -> frame.append(terminal.fit(line)).append("\033[K")
                .append(System.lineSeparator()));
        out.print(frame.append("\033[J"));
        out.flush();
    }

    /** Every direction's path, latency, state and reason. */
    String table() {
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "%-6s %-6s %-9s %-24s %-9s %s%n",
                "NODE", "PEER", "STATE", "PATH", "LATENCY", "WHY"));
        for (Direction direction : directions) {
            TunnelStatus status = direction.status();
            text.append(String.format(Locale.ROOT, "%-6s %-6s %-9s %-24s %-9s %s%n", direction.from().name(),
                    direction.to().name(), status == null ? "-" : status.state(), direction.path(),
                    direction.latency(), status == null ? "" : status.reason()));
        }
        return text.toString();
    }
}
