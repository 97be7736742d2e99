package io.meshwork.demo.simulated;

import io.meshwork.node.tunnel.TunnelStatus;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Every change of state or direct endpoint of every direction, with the virtual instant it happened and the
 * tunnel's reason. The demo runs the simulation until {@link #changed()} holds, so no transition slips between
 * two frames and each carries its exact virtual time.
 */
final class TransitionLog {

    /** One transition; {@code before} is null for a tunnel's first status. */
    record Transition(Duration at, Direction direction, TunnelStatus.State before, TunnelStatus.State after,
            String path, String reason) {

        static String heading() {
            return String.format(Locale.ROOT, "%10s  %-16s %-8s    %-8s %-24s %s", "VIRTUAL", "DIRECTION", "FROM",
                    "TO", "PATH", "WHY");
        }

        String line() {
            return String.format(Locale.ROOT, "%10s  %-16s %-8s -> %-8s %-24s %s", Direction.seconds(at),
                    direction.label(), before == null ? "(new)" : before, after, path, reason);
        }
    }

    private record Seen(TunnelStatus.State state, InetSocketAddress endpoint) {
        static Seen of(TunnelStatus status) {
            return status == null ? null : new Seen(status.state(), status.endpoint());
        }
    }

    private final List<Direction> directions;
    private final Map<Direction, Seen> seen = new HashMap<>();
    private final List<Transition> transitions = new ArrayList<>();

    TransitionLog(List<Direction> directions) {
        this.directions = List.copyOf(directions);
    }

    /** Whether some direction's state or endpoint differs from the last one recorded. */
    boolean changed() {
        for (Direction direction : directions) {
            if (!Objects.equals(seen.get(direction), Seen.of(direction.status()))) {
                return true;
            }
        }
        return false;
    }

    /** Records the changes since the last call as happening {@code now}, and returns them. */
    List<Transition> record(Duration now) {
        List<Transition> fresh = new ArrayList<>();
        for (Direction direction : directions) {
            TunnelStatus status = direction.status();
            Seen current = Seen.of(status);
            Seen previous = seen.get(direction);
            if (Objects.equals(previous, current)) {
                continue;
            }
            seen.put(direction, current);
            if (status != null) {
                fresh.add(new Transition(now, direction, previous == null ? null : previous.state(), status.state(),
                        direction.path(), status.reason()));
            }
        }
        transitions.addAll(fresh);
        return fresh;
    }

    List<Transition> all() {
        return List.copyOf(transitions);
    }
}
