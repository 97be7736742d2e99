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

    private static final int RECENT_TRANSITIONS = 12;

    private final PrintStream out;
    private final boolean terminal;
    private final List<Direction> directions;

    LiveView(PrintStream out, boolean terminal, List<Direction> directions) {
        this.out = out;
        this.terminal = terminal;
        this.directions = List.copyOf(directions);
    }

    /** Shows transitions as they are recorded (plain output only: a terminal sees them in the next frame). */
    void transitions(List<TransitionLog.Transition> fresh) {
        if (!terminal) {
            fresh.forEach(transition -> out.println(transition.line()));
            out.flush();
        }
    }

    /** Redraws the table at virtual time {@code now} (terminal only). */
    void frame(Duration now, Duration end, String pace, TransitionLog log) {
        if (!terminal) {
            return;
        }
        StringBuilder screen = new StringBuilder("\033[H\033[2J");
        screen.append(String.format(Locale.ROOT, "meshwork demo (simulated): virtual time %s of %s, %s%n%n",
                Direction.seconds(now), Direction.seconds(end), pace));
        screen.append(table());
        List<TransitionLog.Transition> all = log.all();
        screen.append(String.format("%nLatest transitions:%n"));
        all.subList(Math.max(0, all.size() - RECENT_TRANSITIONS), all.size())
                .forEach(transition -> screen.append(transition.line()).append(System.lineSeparator()));
        out.print(screen);
        out.flush();
    }

    /** Every direction's path, latency, state and reason. */
    String table() {
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "%-6s %-6s %-9s %-22s %-9s %s%n",
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
