package io.meshwork.demo.simulated;

import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.simulation.Site;
import io.meshwork.simulation.mesh.SimMesh;
import io.meshwork.simulation.mesh.SimNode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code meshwork demo} on the in-JVM NAT simulation: the demo's sites ({@link DemoScenario}) on a simulated
 * internet with an RFC 5780 STUN server and a relay, the node's real tunnel logic in every node, all on one virtual
 * clock. It watches the paths form frame by frame, logging every transition at its virtual instant, then sends
 * data both ways between every pair on the path each tunnel chose and sums up. One seed gives one run.
 */
public final class SimulatedDemo {

    /** Data datagrams each direction sends once the paths have settled. */
    static final int DATAGRAMS = 3;
    private static final Duration DELIVERY_WAIT = Duration.ofSeconds(1);

    /**
     * How to run it.
     *
     * @param seed     fixes every random choice of the run
     * @param settle   virtual time to watch the paths form before sending data
     * @param frame    virtual time per frame of the live view
     * @param speed    virtual seconds per real second; 0 runs as fast as the machine goes
     * @param terminal where output goes: a table is redrawn in place on an interactive terminal, plain lines
     *                 are printed otherwise
     */
    public record Options(long seed, Duration settle, Duration frame, double speed, Terminal terminal) {

        public Options {
            if (settle.isNegative() || frame.isNegative() || frame.isZero() || !(speed >= 0 && speed < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("settle " + settle + ", frame " + frame + ", speed " + speed
                        + ": the settle time cannot be negative, a frame must take time, the speed must be 0 or more");
            }
        }
    }

    /**
     * How one direction ended: its state, path and reason after settling, when it first went direct (null if it
     * never did), and whether data got through on it.
     */
    public record Outcome(String from, String to, TunnelStatus.State state, String path, String reason,
            Duration firstDirect, boolean delivered) {}

    /** The run: the exit code (0 when data flowed in every direction), and every direction's outcome. */
    public record Result(int exitCode, List<Outcome> outcomes) {

        public long direct() {
            return outcomes.stream().filter(o -> o.delivered() && o.state() == TunnelStatus.State.DIRECT).count();
        }

        public long relayed() {
            return outcomes.stream().filter(o -> o.delivered() && o.state() != TunnelStatus.State.DIRECT).count();
        }

        public long undelivered() {
            return outcomes.stream().filter(o -> !o.delivered()).count();
        }
    }

    private final Options options;
    private final PrintStream out;

    public SimulatedDemo(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public Result run() throws InterruptedException {
        try (SimMesh mesh = SimMesh.withSeed(options.seed())) {
            step("a simulated internet (seed " + options.seed() + ") with an RFC 5780 STUN server on 203.0.113.10 "
                    + "and .11 and a relay (udp, or tcp where UDP is blocked)");
            List<SimNode> nodes = new ArrayList<>();
            List<String> described = new ArrayList<>();
            for (DemoScenario.DemoSite demoSite : DemoScenario.SITES) {
                Site site = demoSite.nat().build(mesh.network(), demoSite.name());
                for (String name : demoSite.nodes()) {
                    nodes.add(mesh.node(name, site));
                    described.add(name + " (" + demoSite.name() + ", " + demoSite.description() + ")");
                }
            }
            mesh.group(nodes.toArray(SimNode[]::new));
            step("a node in each site: " + String.join(", ", described));

            List<Direction> directions = new ArrayList<>();
            for (SimNode from : nodes) {
                for (SimNode to : nodes) {
                    if (from != to) {
                        directions.add(new Direction(from, to));
                    }
                }
            }
            LiveView view = new LiveView(out, options.terminal(), directions);
            TransitionLog log = new TransitionLog(directions);
            watch(mesh, view, log);

            if (!options.terminal().interactive()) {
                out.println();
                out.printf("Paths after %s of virtual time:%n", Direction.seconds(mesh.now()));
                out.print(view.table());
            }
            return exchangeData(mesh, directions);
        }
    }

    /** Runs the settle time frame by frame, stopping at every transition to log it at its exact instant. */
    private void watch(SimMesh mesh, LiveView view, TransitionLog log) throws InterruptedException {
        view.begin();
        Duration start = mesh.now();
        Duration end = start.plus(options.settle());
        long realStart = System.nanoTime();
        String pace = options.speed() > 0
                ? String.format(Locale.ROOT, "%.1fx real time", options.speed()) : "as fast as it goes";
        while (mesh.now().compareTo(end) < 0) {
            Duration frameEnd = min(mesh.now().plus(options.frame()), end);
            while (mesh.runUntil(log::changed, frameEnd.minus(mesh.now()))) {
                view.transitions(log.record(mesh.now()));
            }
            view.frame(mesh.now(), end, pace, log);
            if (options.speed() > 0) {
                long dueNanos = realStart + (long) (mesh.now().minus(start).toNanos() / options.speed());
                long waitNanos = dueNanos - System.nanoTime();
                if (waitNanos > 0) {
                    Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
                }
            }
        }
    }

    /** Sends data both ways between every pair on the chosen paths and prints what arrived and the summary. */
    private Result exchangeData(SimMesh mesh, List<Direction> directions) {
        List<String> paths = new ArrayList<>();
        for (Direction direction : directions) {
            paths.add(direction.path());
            for (int i = 0; i < DATAGRAMS; i++) {
                direction.from().sendData(direction.to());
            }
        }
        mesh.advance(DELIVERY_WAIT);

        out.println();
        out.printf("Data across the mesh (%d datagrams each way, on the path each tunnel chose):%n", DATAGRAMS);
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < directions.size(); i++) {
            Direction direction = directions.get(i);
            int arrived = direction.to().dataFrom(direction.from());
            TunnelStatus status = direction.status();
            Outcome outcome = new Outcome(direction.from().name(), direction.to().name(),
                    status == null ? null : status.state(), paths.get(i), status == null ? "" : status.reason(),
                    direction.from().firstDirectTo(direction.to()), arrived > 0);
            outcomes.add(outcome);
            out.printf("  %-6s -> %-6s %s%n", outcome.from(), outcome.to(), outcome.delivered()
                    ? arrived + "/" + DATAGRAMS + " delivered via " + outcome.path()
                    : "NOTHING DELIVERED (" + outcome.path() + ")");
        }
        boolean everyDirectionDelivered = outcomes.stream().allMatch(Outcome::delivered);
        Result result = new Result(everyDirectionDelivered ? 0 : 1, outcomes);
        out.printf("Summary: %d directions direct, %d through the relay, %d without delivery.%n", result.direct(),
                result.relayed(), result.undelivered());
        out.flush();
        return result;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private void step(String text) {
        out.println("meshwork demo: " + text);
        out.flush();
    }
}
