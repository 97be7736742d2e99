package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.LabProcess;
import io.meshwork.lab.NatKind;
import io.meshwork.node.local.LocalApiClient;
import io.meshwork.node.local.NodeStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * How fast two nodes behind endpoint-independent NATs find each other: the time from both being up ({@code node up}
 * printed "up as") to the first WireGuard session (through the relay) and to the direct path, both sides reporting
 * it. Printed, not asserted beyond "it happens": the goals (first session within 1 s, direct within 2 s;
 * docs/performance.md, "Connection set-up") are measurements, and this machine's load varies.
 *
 * <p>{@code -Dmeshwork.timing.runs=N} runs N times (1 by default, to keep the suite short) and prints each run and
 * the p50 and p90 of both times. Control and the relay are started once; each run gets a new organization (so its
 * pair sees no earlier run's devices), two new NAT sites and two new nodes, stopped at the end of the run. Each run
 * also prints both nodes' set-up timelines (the agent's {@code ConnectionTimeline}, logged at debug level in the lab,
 * see the tests' logback-test.xml), in milliseconds from the moment both were up. The agents' local sockets are read
 * from here directly, every 20 ms (a socket file is not bound to a network namespace).
 */
class PathTimingLabTest {

    private static final Pattern TIMELINE = Pattern.compile("timeline: (.*) \\(at (\\d+), \\+\\d+ ms\\)");

    @Test
    void printsTimeToFirstSessionAndToDirect() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl");
        int runs = Integer.getInteger("meshwork.timing.runs", 1);
        List<Long> sessions = new ArrayList<>();
        List<Long> directs = new ArrayList<>();
        try (Lab lab = Lab.create("mwtime")) {
            LabMesh mesh = LabMesh.start(lab);
            for (int run = 1; run <= runs; run++) {
                Timing timing = oneRun(lab, mesh, run);
                System.out.printf(Locale.ROOT, "path timing run %d/%d: first WireGuard session %s, direct %s after "
                        + "both nodes were up (%s)%n", run, runs, millis(timing.session()), millis(timing.direct()),
                        timing.upSpread());
                timing.timeline().forEach(line -> System.out.println("    " + line));
                assertTrue(timing.session() >= 0, "run " + run + ": a session formed within 30 s");
                assertTrue(timing.direct() >= 0, "run " + run + ": the pair went direct within 30 s");
                sessions.add(timing.session());
                directs.add(timing.direct());
            }
        }
        System.out.printf(Locale.ROOT, "path timing over %d run(s): first WireGuard session p50 %d ms, p90 %d ms "
                + "%s; direct p50 %d ms, p90 %d ms %s%n", runs, percentile(sessions, 50), percentile(sessions, 90),
                sessions, percentile(directs, 50), percentile(directs, 90), directs);
    }

    /** A fresh organization, two fresh sites and a fresh pair of nodes; both stopped before it returns. */
    private static Timing oneRun(Lab lab, LabMesh mesh, int run) throws Exception {
        String organization = mesh.api("POST", "/api/v1/organizations", "{\"name\":\"timing-" + run + "\"}")
                .get("id").asText();
        String key = mesh.api("POST", "/api/v1/organizations/" + organization + "/keys", "{\"reusable\":true}")
                .get("key").asText();
        Host left = lab.site("w" + run, NatKind.ENDPOINT_INDEPENDENT).host("west" + run);
        Host right = lab.site("e" + run, NatKind.ENDPOINT_INDEPENDENT).host("east" + run);
        long[] upAt = new long[2];
        CompletableFuture<LabProcess> leftUp = CompletableFuture.supplyAsync(() -> {
            LabProcess node = mesh.startNodeWithKey(left, "mwtime0", Duration.ofSeconds(30), key);
            upAt[0] = System.currentTimeMillis();
            return node;
        });
        CompletableFuture<LabProcess> rightUp = CompletableFuture.supplyAsync(() -> {
            LabProcess node = mesh.startNodeWithKey(right, "mwtime1", Duration.ofSeconds(30), key);
            upAt[1] = System.currentTimeMillis();
            return node;
        });
        CompletableFuture.allOf(leftUp, rightUp).join();
        long bothUp = System.nanoTime();
        long bothUpWall = System.currentTimeMillis();
        LabProcess leftNode = leftUp.join();
        LabProcess rightNode = rightUp.join();
        try {
            Path leftState = mesh.state(left);
            Path rightState = mesh.state(right);
            long session = -1;
            long direct = -1;
            long deadline = bothUp + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline && direct < 0) {
                String leftPath = pathToPeer(leftState);
                String rightPath = pathToPeer(rightState);
                long now = System.nanoTime();
                if (session < 0 && !leftPath.equals("none") && !rightPath.equals("none")) {
                    session = (now - bothUp) / 1_000_000;
                }
                if (leftPath.equals("direct") && rightPath.equals("direct")) {
                    direct = (now - bothUp) / 1_000_000;
                }
                Thread.sleep(20);
            }
            List<Step> steps = new ArrayList<>();
            steps.add(new Step(upAt[0] - bothUpWall, left.name() + ": node up returned"));
            steps.add(new Step(upAt[1] - bothUpWall, right.name() + ": node up returned"));
            steps.addAll(timeline(left.name(), leftNode.output(), bothUpWall));
            steps.addAll(timeline(right.name(), rightNode.output(), bothUpWall));
            steps.sort(java.util.Comparator.comparingLong(Step::at));
            List<String> timeline = steps.stream()
                    .map(step -> String.format(Locale.ROOT, "%6d ms  %s", step.at(), step.text())).toList();
            return new Timing(session, direct, "up " + Math.abs(upAt[0] - upAt[1]) + " ms apart", timeline);
        } finally {
            leftNode.stop();
            rightNode.stop();
        }
    }

    /** The node's timeline lines, in milliseconds from {@code since} (wall clock, shared by the lab's processes). */
    private static List<Step> timeline(String node, String log, long since) {
        List<Step> steps = new ArrayList<>();
        Matcher matcher = TIMELINE.matcher(log);
        while (matcher.find()) {
            steps.add(new Step(Long.parseLong(matcher.group(2)) - since, node + ": " + matcher.group(1)));
        }
        return steps;
    }

    /** One step of a node's set-up, in milliseconds from both nodes being up. */
    private record Step(long at, String text) {}

    private record Timing(long session, long direct, String upSpread, List<String> timeline) {}

    private static String pathToPeer(Path state) {
        try {
            NodeStatus status = new LocalApiClient(state).status();
            return status.peers().isEmpty() ? "none" : status.peers().get(0).path();
        } catch (LocalApiClient.LocalApiException e) {
            return "none";
        }
    }

    /** Nearest rank. */
    private static long percentile(List<Long> values, int percent) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    private static String millis(long value) {
        return value < 0 ? "never" : value + " ms";
    }
}
