package io.meshwork.control.http;

import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.OrganizationState;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.SecurityPolicy;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.util.ByteString;
import org.slf4j.LoggerFactory;

/**
 * Peer maps trimmed by policy at scale, on a control member (docs/performance.md, "Security groups and peer maps"):
 * one organization of DEVICES devices with 100 tags and 200 security groups, every device with an open stream.
 * Drives the member's own code, in one thread: the shared feed's map and visibility moved by the organization's
 * delta ({@link FullPeerMap#next}, {@link FeedVisibility#moveOn}), then each stream's lines as the stream route makes
 * them ({@link PeerStreamRoutes#deltaLines}), streams one after the other. Measured from the delta's arrival at the
 * feed to the lines of each stream that gets some, so the organization's journal write and the network are not in
 * it (they do not grow with the policy; see the fan-out of bench/control-load.sh).
 *
 * <ul>
 *   <li>(a) policy edits that change what ~1,000 devices may learn: p50/p95/max until an affected stream has its
 *       lines, and how many streams were affected;</li>
 *   <li>(b) a device joining: the same, for the streams that may see it;</li>
 *   <li>(c) CPU time of the feed's work per change (thread CPU), for each size given, to compare 1,000 and 10,000.</li>
 * </ul>
 *
 * <p>Usage: {@code bench/policy-load.sh [DEVICES...]} (default 1000 10000).
 */
public final class PolicyFeedBench {

    private static final int TAGS = 100;
    private static final int GROUPS = 200;
    private static final int ROUNDS = 20;
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    private final Random random = new Random(42);
    private final JsonSupport json = new JsonSupport(LoggerFactory.getLogger(PolicyFeedBench.class));
    private final int devices;
    private final Map<String, Organization.SecurityGroup> groups = new LinkedHashMap<>();
    private final Map<String, AtomicReference<SecurityPolicy>> policiesSent = new HashMap<>();
    private FullPeerMap map;
    private FeedVisibility visibility;
    private long revision;
    private int joined;

    private PolicyFeedBench(int devices) {
        this.devices = devices;
    }

    public static void main(String[] args) {
        int[] sizes = args.length == 0 ? new int[] {1_000, 10_000}
                : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        for (int size : sizes) {
            new PolicyFeedBench(size).run();
        }
    }

    private static String tag(int number) {
        return "t" + number;
    }

    /** Group {@code g} applies to two tags and lets in two others: every device is in some group. */
    private static Organization.SecurityGroup group(int g, int shift) {
        return new Organization.SecurityGroup("g" + g,
                List.of("tag:" + tag(g % TAGS), "tag:" + tag((g + shift + 37) % TAGS)),
                List.of(new Organization.Rule("tcp", "443", List.of("tag:" + tag((g * 7 + 3 + shift) % TAGS))),
                        new Organization.Rule("udp", null, List.of("tag:" + tag((g * 13 + 5 + shift) % TAGS)))));
    }

    private PeerInfo device(int number) {
        List<String> tags = new ArrayList<>(List.of(tag(random.nextInt(TAGS))));
        if (random.nextBoolean()) {
            tags.add(tag(random.nextInt(TAGS)));
        }
        int host = number + 2;
        return new PeerInfo("d" + number, "host-" + number, "key-" + number,
                List.of("10." + (host >> 16 & 255) + "." + (host >> 8 & 255) + "." + (host & 255),
                        "fd00::" + Integer.toHexString(host)),
                List.of(), Map.of(), 0, tags);
    }

    private void run() {
        List<PeerInfo> peers = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            peers.add(device(i));
        }
        for (int g = 0; g < GROUPS; g++) {
            groups.put("g" + g, group(g, 0));
        }
        revision = devices + GROUPS;
        long started = System.nanoTime();
        map = FullPeerMap.of(new Organization.PeerMap(revision, true, peers, List.of(), null,
                new Organization.PolicyInputs(Map.copyOf(groups), Map.of()), List.of("10.0.0.0/8"), List.of()));
        visibility = new FeedVisibility(map);
        long averageView = 0;
        for (PeerInfo peer : peers) {
            policiesSent.put(peer.id(), new AtomicReference<>(visibility.policyOf(peer.id())));
        }
        for (int i = 0; i < 100; i++) {
            averageView += visibility.visibleTo(peers.get(random.nextInt(peers.size())).id()).size();
        }
        System.out.printf("policy bench: %d devices, %d tags, %d groups: feed map and visibility built in %.0f ms;"
                + " a device sees %d peers on average%n", devices, TAGS, GROUPS, (System.nanoTime() - started) / 1e6,
                averageView / 100);

        Result edits = measure("policy edit", round -> {
            int g = random.nextInt(GROUPS);
            Organization.SecurityGroup edited = group(g, 1 + random.nextInt(TAGS - 1));
            groups.put(edited.name(), edited);
            return new Organization.PeerMap(++revision, false, List.of(), List.of(), null,
                    new Organization.PolicyInputs(Map.copyOf(groups), Map.of()), null,
                    List.of(new OrganizationState.Change(revision, null, true)));
        });
        Result joins = measure("device joining", round -> {
            PeerInfo peer = device(devices + joined++);
            policiesSent.put(peer.id(), new AtomicReference<>());
            return new Organization.PeerMap(++revision, false, List.of(peer), List.of(), null, null, null,
                    List.of(new OrganizationState.Change(revision, peer.id(), true)));
        });
        Result reports = measure("endpoint report", round -> {
            PeerInfo old = map.peers().get("d" + random.nextInt(devices));
            PeerInfo moved = new PeerInfo(old.id(), old.hostname(), old.publicKey(), old.overlayIps(),
                    List.of(new io.meshwork.protocol.api.Endpoint("198.51.100." + round + ":41641", "stun")),
                    old.nat(), round, old.tags());
            return new Organization.PeerMap(++revision, false, List.of(moved), List.of(), null, null, null,
                    List.of(new OrganizationState.Change(revision, old.id(), false)));
        });
        for (Result result : List.of(edits, joins, reports)) {
            result.print(devices);
        }
    }

    private record Result(String what, long[] latencyNanos, long[] affected, long[] feedCpuNanos,
            long[] streamCpuNanos) {
        void print(int devices) {
            long[] latency = latencyNanos.clone();
            Arrays.sort(latency);
            System.out.printf("policy bench: %d devices, %s: %.0f streams affected per change (min %d, max %d);"
                            + " until an affected stream has its lines p50 %.1f ms, p95 %.1f ms, max %.1f ms;"
                            + " CPU per change: feed %.2f ms, streams %.2f ms (%.1f us per affected stream)%n",
                    devices, what, Arrays.stream(affected).average().orElse(0),
                    Arrays.stream(affected).min().orElse(0), Arrays.stream(affected).max().orElse(0),
                    percentile(latency, 50) / 1e6, percentile(latency, 95) / 1e6,
                    latency.length == 0 ? 0 : latency[latency.length - 1] / 1e6,
                    Arrays.stream(feedCpuNanos).average().orElse(0) / 1e6,
                    Arrays.stream(streamCpuNanos).average().orElse(0) / 1e6,
                    Arrays.stream(streamCpuNanos).sum() / 1e3 / Math.max(1, Arrays.stream(affected).sum()));
        }
    }

    /** {@value #ROUNDS} changes of one kind, each with every stream's lines, after as many unmeasured ones. */
    private Result measure(String what, Function<Integer, Organization.PeerMap> change) {
        for (int round = 0; round < ROUNDS; round++) {
            apply(change.apply(round), null);
        }
        List<Long> latencies = new ArrayList<>();
        long[] affected = new long[ROUNDS];
        long[] feedCpu = new long[ROUNDS];
        long[] streamCpu = new long[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            long[] cost = new long[2];
            List<Long> roundLatencies = new ArrayList<>();
            apply(change.apply(ROUNDS + round), new Sample(roundLatencies, cost));
            latencies.addAll(roundLatencies);
            affected[round] = roundLatencies.size();
            feedCpu[round] = cost[0];
            streamCpu[round] = cost[1];
        }
        return new Result(what, latencies.stream().mapToLong(Long::longValue).toArray(), affected, feedCpu,
                streamCpu);
    }

    private record Sample(List<Long> latencies, long[] cost) {}

    /** The feed takes {@code delta}, then every open stream picks its lines from it. */
    private void apply(Organization.PeerMap delta, Sample sample) {
        long arrived = System.nanoTime();
        long cpu = CPU.getCurrentThreadCpuTime();
        FullPeerMap before = map;
        FullPeerMap next = before.next(delta);
        FeedVisibility.View view = visibility.moveOn(before, delta, next);
        map = next;
        PeerMapFeeds.Delta shared = new PeerMapFeeds.Delta(before.revision(), delta, next, view);
        long feedDone = CPU.getCurrentThreadCpuTime();
        for (String watcher : next.peers().keySet()) {
            List<ByteString> lines = PeerStreamRoutes.deltaLines(shared, watcher,
                    policiesSent.computeIfAbsent(watcher, id -> new AtomicReference<>()), json);
            if (sample != null && !lines.isEmpty()) {
                sample.latencies().add(System.nanoTime() - arrived);
            }
        }
        if (sample != null) {
            sample.cost()[0] = feedDone - cpu;
            sample.cost()[1] = CPU.getCurrentThreadCpuTime() - feedDone;
        }
    }

    private static long percentile(long[] sorted, int percent) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(percent / 100.0 * sorted.length) - 1)];
    }
}
