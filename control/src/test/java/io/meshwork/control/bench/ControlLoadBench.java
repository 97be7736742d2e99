package io.meshwork.control.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * Control-plane load: one control member on embedded H2 (or PostgreSQL with {@code MESHWORK_DATABASE=postgres}),
 * driven over HTTP from the same JVM. It registers DEVICES devices in one organization with bounded concurrency,
 * opens WATCHERS peer-map streams, lets REPORTERS devices report endpoints (with the streams open), measures how
 * long one endpoint change takes to reach every stream, restarts the member to time the organization's recovery,
 * and reads the journal's size. Run through {@code bench/control-load.sh}; it prints each number and the run's
 * parameters.
 *
 * <p>Before measuring, WARMUP registrations (env {@code MESHWORK_BENCH_WARMUP}, default 3,000) go to another
 * organization, so the JIT has compiled the paths and the shards exist: the numbers are the member's steady
 * state, and the warm-up's own rate is printed too, for a cold start.
 */
public final class ControlLoadBench {

    private static final String ADMIN = "mwa.bench-admin-token";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Streams ask for gzip ({@code MESHWORK_BENCH_GZIP=1}) and inflate what they get before scanning it. */
    private static final boolean GZIP = "1".equals(System.getenv("MESHWORK_BENCH_GZIP"));

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(60)).build();
    private final int concurrency;
    private String base;
    /** Streams of the reconnect storm (0: none). */
    private int storm;

    private ControlLoadBench(int concurrency) {
        this.concurrency = concurrency;
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--watch")) {
            watchForParent(args[1], Long.parseLong(args[2]), Path.of(args[3]));
            return;
        }
        if (args.length > 0 && args[0].equals("--storm")) {
            stormForParent(args[1], args[2], Long.parseLong(args[3]), Boolean.parseBoolean(args[4]), Path.of(args[5]));
            return;
        }
        int devices = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int watchers = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int reporters = args.length > 2 ? Integer.parseInt(args[2]) : 2_000;
        int concurrency = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        int fanOutRounds = args.length > 4 ? Integer.parseInt(args[4]) : 10;
        int resumed = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        int storm = args.length > 6 ? Integer.parseInt(args[6]) : 0;
        ControlLoadBench bench = new ControlLoadBench(concurrency);
        bench.storm = Math.min(storm, devices);
        bench.run(devices, Math.min(watchers, devices - 1), Math.min(reporters, devices),
                fanOutRounds, Math.min(resumed, devices - 1));
        System.exit(0);
    }

    private static Config serverConfig(Path data, int watchers) {
        Map<String, Object> overrides = new HashMap<>(Map.of(
                "meshwork.control.data-dir", data.toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", ADMIN,
                "pekko.http.server.max-connections", watchers + 4_096,
                "meshwork.control.metrics", "127.0.0.1:0",
                "pekko.remote.artery.canonical.port", 0));
        // The bench measures throughput: its devices report far more often than the per-device limit lets real ones.
        overrides.put("meshwork.control.limits.reports-burst", 1_000_000);
        return ControlServer.configuration(ConfigFactory.parseMap(overrides));
    }

    private void run(int devices, int watchers, int reporters, int fanOutRounds, int resumed) throws Exception {
        Path data = Files.createTempDirectory("mwc-load");
        // Every stream holds a connection: past max-connections the server stops accepting and a stream waits.
        Config config = serverConfig(data, Math.max(storm, Math.max(watchers, resumed)));
        String database = config.getString("meshwork.control.database");
        System.out.printf("control load: %d devices in one organization, %d peer streams, %d endpoint reporters,"
                        + " %d requests in flight, database %s, JDK %s, %d cores, max heap %d MiB%n",
                devices, watchers, reporters, concurrency, database, Runtime.version(),
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);

        String organizationId;
        List<String> tokens;
        long heapBefore;
        try (ControlServer server = ControlServer.start(config)) {
            base = "http://127.0.0.1:" + server.httpAddress().getPort();
            int warmup = Integer.parseInt(System.getenv().getOrDefault("MESHWORK_BENCH_WARMUP", "3000"));
            if (warmup > 0) {
                String warmOrganization = call("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"warm-up\"}")
                        .body().get("id").asText();
                String warmKey = call("POST", "/api/v1/organizations/" + warmOrganization + "/keys", ADMIN,
                        "{\"reusable\":true}").body().get("key").asText();
                long coldCpu = processCpuNanos();
                Phase cold = drive(warmup, i -> request("POST", "/api/v1/register", warmKey,
                        "{\"publicKey\":\"" + randomKey() + "\",\"hostname\":\"warm-" + i + "\"}"), IGNORE);
                cold.print("warm-up registrations (another organization, cold JVM)", warmup);
                printCpu(coldCpu, warmup);
                cold.printRates("warm-up registrations per second by tenth");
            }
            JsonNode organization = call("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"load\"}").body();
            organizationId = organization.get("id").asText();
            String key = call("POST", "/api/v1/organizations/" + organizationId + "/keys", ADMIN,
                    "{\"reusable\":true}").body().get("key").asText();
            heapBefore = usedHeapAfterGc();

            String[] deviceTokens = new String[devices];
            long registrationCpu = processCpuNanos();
            Phase registration = driveText(devices, i -> request("POST", "/api/v1/register", key,
                    "{\"publicKey\":\"" + randomKey() + "\",\"hostname\":\"load-" + i + "\"}"), (i, body) ->
                    deviceTokens[i] = token(body));
            tokens = List.of(deviceTokens);
            registration.print("registrations", devices);
            printCpu(registrationCpu, devices);
            registration.printDeciles("registration latency by tenth of the run (ms, p50)");
            registration.printRates("registrations per second by tenth of the run");
            long heapAfter = usedHeapAfterGc();
            System.out.printf("heap: %.1f KiB per device (server and client in one JVM, after GC)%n",
                    (heapAfter - heapBefore) / 1024.0 / devices);

            Phase quietReports = drive(reporters, i -> request("POST", "/api/v1/devices/self/endpoints",
                    tokens.get(devices - 1 - i), endpointReport(i, 1)), (i, body) -> {});
            quietReports.print("endpoint reports, no streams open", reporters);

            long opening = System.nanoTime();
            List<Watcher> open = new ArrayList<>();
            for (int i = 0; i < watchers; i++) {
                open.add(new Watcher(tokens.get(i)));
            }
            for (Watcher watcher : open) {
                if (!watcher.snapshot.await(300, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("a stream got no snapshot in 300 s");
                }
            }
            long failed = open.stream().filter(watcher -> watcher.failed).count();
            long[] toSnapshot = open.stream().filter(watcher -> !watcher.failed)
                    .mapToLong(watcher -> watcher.snapshotNanos - opening).sorted().toArray();
            System.out.printf("streams: %d opened at once, each with a %d-peer snapshot, all done in %.1f s;"
                            + " time to snapshot p50 %.1f s, p99 %.1f s, last %.1f s%s%n", watchers, devices - 1,
                    (System.nanoTime() - opening) / 1e9, percentile(toSnapshot, 50) / 1e9,
                    percentile(toSnapshot, 99) / 1e9,
                    toSnapshot.length == 0 ? 0.0 : toSnapshot[toSnapshot.length - 1] / 1e9,
                    failed == 0 ? "" : "; " + failed + " ended before their snapshot (the first: "
                            + open.stream().filter(watcher -> watcher.failed).findFirst().get().endedBy + ")");
            open.removeIf(watcher -> watcher.failed);

            Phase busyReports = drive(reporters, i -> request("POST", "/api/v1/devices/self/endpoints",
                    tokens.get(devices - 1 - i), endpointReport(i, 2)), (i, body) -> {});
            busyReports.print("endpoint reports, " + watchers + " streams open", reporters);

            measureFanOut(open, tokens.get(devices - 1), fanOutRounds);
            open.forEach(Watcher::close);
            if (resumed > 0) {
                measureResumedFanOut(organizationId, tokens, resumed, fanOutRounds);
            }
            if (storm > 0) {
                reconnectStorm(organizationId, tokens, key, reporters);
            }
            journal(config, organizationId);
        }

        long starting = System.nanoTime();
        try (ControlServer restarted = ControlServer.start(config)) {
            double startSeconds = (System.nanoTime() - starting) / 1e9;
            base = "http://127.0.0.1:" + restarted.httpAddress().getPort();
            long started = System.nanoTime();
            Answer answer = call("GET", "/api/v1/organizations/" + organizationId, ADMIN, null);
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("recovery: member up in %.2f s, then the organization (%s devices) recovered and"
                    + " answered in %.2f s%n", startSeconds, answer.body().get("devices").asText(), seconds);
        }
    }

    /**
     * The reconnect storm: STORM streams, one per device, all opening at once, as after a member restart or a network
     * blip, with registrations and endpoint reports going on meanwhile (their rates are printed). First every stream
     * fresh (each needs the whole map: in sync once it has a snapshot at the revision the storm started from, or
     * later), then every stream resuming from a revision 50 changes back (in sync once a line at the storm's revision
     * or later arrived). Streams beyond MESHWORK_BENCH_LOCAL_STREAMS are held by a second process.
     */
    private void reconnectStorm(String organizationId, List<String> tokens, String key, int reporters)
            throws Exception {
        long beforeChanges = revision(organizationId);
        for (int i = 0; i < 50; i++) {
            call("POST", "/api/v1/devices/self/endpoints", tokens.get(tokens.size() - 1 - i), endpointReport(i, 3));
        }
        long target = revision(organizationId);
        stormOnce("fresh", tokens, "", target, true, key, reporters, 0);
        stormOnce("resuming from " + beforeChanges, tokens, "?since=" + beforeChanges, target, false, key, reporters,
                1);
    }

    private long revision(String organizationId) throws Exception {
        return call("GET", "/api/v1/organizations/" + organizationId, ADMIN, null).body().get("revision").asLong();
    }

    private void stormOnce(String what, List<String> tokens, String query, long target, boolean needsSnapshot,
            String key, int reporters, int round) throws Exception {
        int local = Math.min(storm, Integer.parseInt(System.getenv().getOrDefault("MESHWORK_BENCH_LOCAL_STREAMS",
                "4000")));
        long opening = System.currentTimeMillis();
        ChildStorm child = local < storm
                ? new ChildStorm(base, query, target, needsSnapshot, tokens.subList(local, storm)) : null;
        List<Watcher> open = new ArrayList<>();
        for (int i = 0; i < local; i++) {
            open.add(new Watcher(tokens.get(i), query, GZIP, target, needsSnapshot));
        }
        // Meanwhile: registrations (new devices of the organization) and endpoint reports, one after the other,
        // from a client of their own (not queued behind the streams' connections).
        ControlLoadBench loader = new ControlLoadBench(concurrency);
        loader.base = base;
        // On a thread of its own: the common pool (one thread on two cores) is not the bench's to block.
        ExecutorService loadThread = Executors.newSingleThreadExecutor();
        CompletableFuture<String> load = CompletableFuture.supplyAsync(() -> {
            try {
                int count = Math.max(100, reporters);
                Phase registrations = loader.drive(count, i -> request("POST", "/api/v1/register", key,
                        "{\"publicKey\":\"" + randomKey() + "\",\"hostname\":\"storm-" + round + "-" + i + "\"}"),
                        (i, body) -> {});
                Phase reports = loader.drive(reporters, i -> request("POST", "/api/v1/devices/self/endpoints",
                        tokens.get(tokens.size() - 1 - i), endpointReport(i, 4 + round)), (i, body) -> {});
                return String.format("  meanwhile: %d registrations at %.0f/s (p50 %.0f ms, p99 %.0f ms)%s, then %d"
                                + " endpoint reports at %.0f/s (p50 %.0f ms, p99 %.0f ms)%s", count,
                        count / (registrations.elapsedNanos() / 1e9), registrations.p(50), registrations.p(99),
                        registrations.failures() == 0 ? "" : " " + registrations.failures() + " failed", reporters,
                        reporters / (reports.elapsedNanos() / 1e9), reports.p(50), reports.p(99),
                        reports.failures() == 0 ? "" : " " + reports.failures() + " failed");
            } catch (Exception e) {
                return "  meanwhile: load failed: " + e;
            }
        }, loadThread);
        loadThread.shutdown();
        List<Long> times = new ArrayList<>();
        long failed = 0;
        String firstFailure = null;
        for (Watcher watcher : open) {
            if (!watcher.synced.await(600, TimeUnit.SECONDS) || watcher.endedBy != null) {
                failed++;
                firstFailure = firstFailure != null ? firstFailure : watcher.endedBy;
            } else {
                times.add(watcher.syncedMillis - opening);
            }
        }
        if (child != null) {
            for (long at : child.synced()) {
                if (at < 0) {
                    failed++;
                } else {
                    times.add(at - opening);
                }
            }
        }
        long[] sorted = times.stream().mapToLong(Long::longValue).sorted().toArray();
        System.out.printf("reconnect storm, %s: %d streams opened at once (%d in a second process, gzip %s), in sync"
                        + " at revision %d or later: p50 %.1f s, p99 %.1f s, last %.1f s%s%n", what, storm,
                storm - local, GZIP ? "on" : "off", target, percentile(sorted, 50) / 1e3,
                percentile(sorted, 99) / 1e3, sorted.length == 0 ? 0.0 : sorted[sorted.length - 1] / 1e3,
                failed == 0 ? "" : "; " + failed + " not in sync (the first: " + firstFailure + ")");
        try {
            System.out.println(load.get(300, TimeUnit.SECONDS));
        } catch (java.util.concurrent.TimeoutException e) {
            System.out.println("  meanwhile: registrations and reports not done 300 s after the streams were");
        }
        long received = open.stream().mapToLong(watcher -> watcher.received).sum();
        long decoded = open.stream().mapToLong(watcher -> watcher.decoded).sum();
        System.out.printf("  the %d streams in this process received %.1f MiB for %.1f MiB of NDJSON (%.1f KiB per"
                        + " stream)%n", open.size(), received / 1048576.0, decoded / 1048576.0,
                received / 1024.0 / Math.max(1, open.size()));
        open.forEach(Watcher::close);
        if (child != null) {
            child.close();
        }
        Thread.sleep(2_000);
    }

    /** Storm streams in a child JVM: it answers "synced" with each stream's wall-clock millisecond (-1: never). */
    private static final class ChildStorm implements AutoCloseable {
        private final Process process;
        private final java.io.BufferedReader answers;

        ChildStorm(String base, String query, long target, boolean needsSnapshot, List<String> tokens)
                throws IOException {
            Path file = Files.createTempFile("mw-storm", ".tokens");
            Files.write(file, tokens);
            String java = ProcessHandle.current().info().command().orElse("java");
            process = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                    ControlLoadBench.class.getName(), "--storm", base, query.isEmpty() ? "-" : query,
                    Long.toString(target), Boolean.toString(needsSnapshot), file.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            answers = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
        }

        long[] synced() throws IOException {
            String line = answers.readLine();
            if (line == null || !line.startsWith("synced ")) {
                throw new IllegalStateException("the storm process said " + line);
            }
            return Arrays.stream(line.substring(7).split(",")).mapToLong(Long::parseLong).toArray();
        }

        @Override
        public void close() throws IOException {
            process.getOutputStream().close();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.destroy();
        }
    }

    /** The child's side of {@link ChildStorm}. */
    private static void stormForParent(String base, String query, long target, boolean needsSnapshot, Path tokensFile)
            throws Exception {
        ControlLoadBench bench = new ControlLoadBench(1);
        bench.base = base;
        List<Watcher> open = new ArrayList<>();
        for (String token : Files.readAllLines(tokensFile)) {
            open.add(bench.new Watcher(token, query.equals("-") ? "" : query, GZIP, target, needsSnapshot));
        }
        StringBuilder times = new StringBuilder("synced ");
        for (int i = 0; i < open.size(); i++) {
            Watcher watcher = open.get(i);
            boolean ok = watcher.synced.await(600, TimeUnit.SECONDS) && watcher.endedBy == null;
            times.append(i == 0 ? "" : ",").append(ok ? watcher.syncedMillis : -1);
        }
        System.out.println(times);
        System.out.flush();
        // Holds the streams until the parent is done with them.
        while (System.in.read() >= 0) {
            // Nothing is sent: end of input ends the wait.
        }
        open.forEach(Watcher::close);
        System.exit(0);
    }

    /**
     * RESUMED streams that start from the organization's current revision, as nodes reconnecting with their last
     * revision do: no snapshots, so what is measured is one change's way to every stream at that count.
     */
    private void measureResumedFanOut(String organizationId, List<String> tokens, int resumed, int rounds)
            throws Exception {
        long revision = call("GET", "/api/v1/organizations/" + organizationId, ADMIN, null).body()
                .get("revision").asLong();
        long opening = System.nanoTime();
        // Each stream is a socket at both ends in this process: past the open-file limit, the rest run in a child.
        int local = Math.min(resumed, Integer.parseInt(System.getenv().getOrDefault("MESHWORK_BENCH_LOCAL_STREAMS",
                "4000")));
        ChildWatchers child = local < resumed
                ? new ChildWatchers(base, revision, tokens.subList(local, resumed)) : null;
        List<Watcher> open = new ArrayList<>();
        for (int i = 0; i < local; i++) {
            open.add(new Watcher(tokens.get(i), "?since=" + revision));
        }
        for (Watcher watcher : open) {
            if (!watcher.connected.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("a resumed stream was not answered in 300 s");
            }
        }
        long ended = open.stream().filter(watcher -> watcher.endedBy != null).count()
                + (child == null ? 0 : child.awaitConnected());
        System.out.printf("resumed streams: %d opened at once from revision %d (%d in a second process), all"
                        + " answered in %.1f s%s%n", resumed, revision, resumed - local,
                (System.nanoTime() - opening) / 1e9, ended == 0 ? "" : "; " + ended + " ended");
        open.removeIf(watcher -> watcher.endedBy != null);
        measureFanOut(open, child, tokens.get(tokens.size() - 1), rounds);
        open.forEach(Watcher::close);
        if (child != null) {
            child.close();
        }
    }

    /**
     * Watchers in a child JVM (same class path), driven over its standard streams: "expect MARKER" arms them and
     * is answered "armed"; then "arrived" with the wall-clock millisecond each stream saw the marker, or
     * "missing N". Times are wall-clock so the two processes can compare them.
     */
    private static final class ChildWatchers implements AutoCloseable {
        private final Process process;
        private final java.io.BufferedWriter commands;
        private final java.io.BufferedReader answers;

        ChildWatchers(String base, long since, List<String> tokens) throws IOException {
            Path file = Files.createTempFile("mw-watch", ".tokens");
            Files.write(file, tokens);
            String java = ProcessHandle.current().info().command().orElse("java");
            process = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                    ControlLoadBench.class.getName(), "--watch", base, Long.toString(since), file.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            commands = new java.io.BufferedWriter(new java.io.OutputStreamWriter(process.getOutputStream(),
                    StandardCharsets.UTF_8));
            answers = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
        }

        /** How many of the child's streams ended before they were answered. */
        long awaitConnected() throws IOException {
            String line = answers.readLine();
            if (line == null || !line.startsWith("connected ")) {
                throw new IllegalStateException("the watcher process said " + line);
            }
            return Long.parseLong(line.split(" ")[3]);
        }

        void arm(String marker) throws IOException {
            commands.write("expect " + marker + "\n");
            commands.flush();
            String line = answers.readLine();
            if (!"armed".equals(line)) {
                throw new IllegalStateException("the watcher process said " + line);
            }
        }

        long[] arrivals() throws IOException {
            String line = answers.readLine();
            if (line == null || !line.startsWith("arrived ")) {
                throw new IllegalStateException("the watcher process: " + line);
            }
            return Arrays.stream(line.substring(8).split(",")).mapToLong(Long::parseLong).toArray();
        }

        @Override
        public void close() throws IOException {
            commands.close();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.destroy();
        }
    }

    /** The child's side of {@link ChildWatchers}. */
    private static void watchForParent(String base, long since, Path tokensFile) throws Exception {
        ControlLoadBench bench = new ControlLoadBench(1);
        bench.base = base;
        List<Watcher> open = new ArrayList<>();
        for (String token : Files.readAllLines(tokensFile)) {
            open.add(bench.new Watcher(token, "?since=" + since));
        }
        for (Watcher watcher : open) {
            watcher.connected.await(300, TimeUnit.SECONDS);
        }
        long ended = open.stream().filter(watcher -> watcher.endedBy != null).count();
        open.removeIf(watcher -> watcher.endedBy != null);
        java.io.PrintStream out = System.out;
        out.println("connected " + open.size() + " ended " + ended);
        out.flush();
        java.io.BufferedReader commands = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                StandardCharsets.UTF_8));
        for (String line = commands.readLine(); line != null; line = commands.readLine()) {
            CountDownLatch arrived = new CountDownLatch(open.size());
            for (Watcher watcher : open) {
                watcher.expect(line.substring("expect ".length()), arrived);
            }
            out.println("armed");
            out.flush();
            if (!arrived.await(60, TimeUnit.SECONDS)) {
                out.println("missing " + arrived.getCount());
            } else {
                StringBuilder times = new StringBuilder("arrived ");
                for (int i = 0; i < open.size(); i++) {
                    times.append(i == 0 ? "" : ",").append(open.get(i).arrivedMillis);
                }
                out.println(times);
            }
            out.flush();
        }
        System.exit(0);
    }

    private void measureFanOut(List<Watcher> watchers, String reporterToken, int rounds) throws Exception {
        measureFanOut(watchers, null, reporterToken, rounds);
    }

    /** Reports one unique endpoint per round and times its arrival at each stream (wall clock, milliseconds). */
    private void measureFanOut(List<Watcher> watchers, ChildWatchers child, String reporterToken, int rounds)
            throws Exception {
        List<Long> lastArrivals = new ArrayList<>();
        List<Long> all = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            String marker = "198.18." + (round / 250) + "." + (round % 250 + 1) + ":" + (10_000 + round);
            CountDownLatch arrived = new CountDownLatch(watchers.size());
            if (child != null) {
                child.arm(marker);
            }
            for (Watcher watcher : watchers) {
                watcher.expect(marker, arrived);
            }
            long sent = System.currentTimeMillis();
            call("POST", "/api/v1/devices/self/endpoints", reporterToken,
                    "{\"endpoints\":[{\"address\":\"" + marker + "\",\"source\":\"stun\"}]}");
            if (!arrived.await(60, TimeUnit.SECONDS)) {
                List<Watcher> ended = watchers.stream().filter(watcher -> watcher.endedBy != null).toList();
                throw new IllegalStateException("a change reached " + (watchers.size() - arrived.getCount()) + " of "
                        + watchers.size() + " streams in 60 s; " + ended.size() + " streams had ended"
                        + (ended.isEmpty() ? "" : ", the first: " + ended.get(0).endedBy));
            }
            long last = 0;
            List<Long> arrivals = new ArrayList<>();
            for (Watcher watcher : watchers) {
                arrivals.add(watcher.arrivedMillis);
            }
            if (child != null) {
                for (long at : child.arrivals()) {
                    arrivals.add(at);
                }
            }
            for (long at : arrivals) {
                long latency = TimeUnit.MILLISECONDS.toNanos(at - sent);
                all.add(latency);
                last = Math.max(last, latency);
            }
            lastArrivals.add(last);
            Thread.sleep(300);
        }
        long[] each = all.stream().mapToLong(Long::longValue).sorted().toArray();
        long[] complete = lastArrivals.stream().mapToLong(Long::longValue).sorted().toArray();
        System.out.printf("fan-out: one endpoint change to %d streams, %d rounds: per stream p50 %.0f ms, p95 %.0f ms,"
                        + " p99 %.0f ms; until the last stream p50 %.0f ms, max %.0f ms%n",
                all.size() / Math.max(1, rounds), rounds,
                millis(percentile(each, 50)), millis(percentile(each, 95)), millis(percentile(each, 99)),
                millis(percentile(complete, 50)), millis(complete[complete.length - 1]));
    }

    private static void journal(Config config, String organizationId) throws Exception {
        Config db = config.getConfig("pekko-persistence-jdbc.shared-databases.slick.db");
        String persistenceId = "Organization|" + organizationId;
        try (Connection connection = DriverManager.getConnection(db.getString("url"), db.getString("user"),
                db.getString("password"))) {
            long[] events = sizes(connection, "select count(*), coalesce(sum(octet_length(\"event_payload\")), 0)"
                    + " from \"event_journal\" where \"persistence_id\" = ?", persistenceId);
            long[] snapshots = sizes(connection, "select count(*), coalesce(sum(octet_length(\"snapshot_payload\")),"
                    + " 0) from \"snapshot\" where \"persistence_id\" = ?", persistenceId);
            long[] latest = sizes(connection, "select count(*), coalesce(max(octet_length(\"snapshot_payload\")), 0)"
                    + " from \"snapshot\" where \"persistence_id\" = ?", persistenceId);
            System.out.printf("journal: %d events, %.1f MiB of payload (%.0f bytes per event); %d snapshots kept,"
                            + " %.1f MiB, the largest %.1f MiB%n", events[0], events[1] / 1048576.0,
                    events[0] == 0 ? 0.0 : (double) events[1] / events[0], snapshots[0], snapshots[1] / 1048576.0,
                    latest[1] / 1048576.0);
        }
    }

    private static long[] sizes(Connection connection, String sql, String persistenceId) throws Exception {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setString(1, persistenceId);
            try (ResultSet result = statement.executeQuery()) {
                result.next();
                return new long[] {result.getLong(1), result.getLong(2)};
            }
        }
    }

    // ---- load driving -----------------------------------------------------------------------------------

    /** Latencies of one phase, in the order requests were started. */
    /** Latency of each request, when each completed (since the phase began), the phase's length, failures. */
    private record Phase(long[] latencyNanos, long[] completedNanos, long elapsedNanos, long failures) {
        /** The latency percentile, milliseconds. */
        double p(int percent) {
            long[] sorted = latencyNanos.clone();
            Arrays.sort(sorted);
            return millis(percentile(sorted, percent));
        }

        void print(String what, int count) {
            long[] sorted = latencyNanos.clone();
            Arrays.sort(sorted);
            System.out.printf("%s: %d in %.1f s = %.0f/s; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms%s%n", what,
                    count, elapsedNanos / 1e9, count / (elapsedNanos / 1e9), millis(percentile(sorted, 50)),
                    millis(percentile(sorted, 99)), millis(sorted[sorted.length - 1]),
                    failures == 0 ? "" : " (" + failures + " failed)");
        }

        void printDeciles(String what) {
            StringBuilder line = new StringBuilder(what).append(':');
            int tenth = Math.max(1, latencyNanos.length / 10);
            for (int from = 0; from + tenth <= latencyNanos.length; from += tenth) {
                long[] slice = Arrays.copyOfRange(latencyNanos, from, from + tenth);
                Arrays.sort(slice);
                line.append(String.format(" %.1f", millis(percentile(slice, 50))));
            }
            System.out.println(line);
        }

        /** Completions per second in each tenth of the requests, in completion order: warm-up versus steady state. */
        void printRates(String what) {
            long[] completed = completedNanos.clone();
            Arrays.sort(completed);
            StringBuilder line = new StringBuilder(what).append(':');
            int tenth = Math.max(1, completed.length / 10);
            long previous = 0;
            for (int end = tenth; end <= completed.length; end += tenth) {
                long until = completed[end - 1];
                line.append(String.format(" %.0f", tenth / Math.max(1e-9, (until - previous) / 1e9)));
                previous = until;
            }
            System.out.println(line);
        }
    }

    private interface OnBody {
        void accept(int index, JsonNode body);
    }

    /** A successful answer's body as text, unparsed. */
    private interface OnText {
        void accept(int index, String body) throws IOException;
    }

    /**
     * Answers nobody reads: not parsed. (The load generator shares the JVM and its two cores with control, so it
     * does no work per request that a node would not; a node reads its registration's answer once, where the bench
     * needs only the token, {@link #token}.)
     */
    private static final OnBody IGNORE = (index, body) -> { };

    /** The device token of a registration's answer, found without parsing the whole answer. */
    private static String token(String registered) throws IOException {
        int at = registered.indexOf("\"token\":\"");
        int end = at < 0 ? -1 : registered.indexOf('"', at + 9);
        if (end < 0) {
            throw new IOException("no token in " + registered);
        }
        return registered.substring(at + 9, end);
    }

    /** Sends {@code count} requests with at most {@code concurrency} in flight; every one must succeed. */
    private Phase drive(int count, IntFunction<HttpRequest> requests, OnBody onBody) throws Exception {
        return driveText(count, requests, onBody == IGNORE ? (OnText) (index, body) -> { }
                : (OnText) (index, body) -> onBody.accept(index, JSON.readTree(body)));
    }

    private Phase driveText(int count, IntFunction<HttpRequest> requests, OnText onBody) throws Exception {
        Semaphore inFlight = new Semaphore(concurrency);
        long[] latencies = new long[count];
        long[] completions = new long[count];
        AtomicLong failures = new AtomicLong();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            inFlight.acquire();
            int index = i;
            long sent = System.nanoTime();
            pending.add(http.sendAsync(requests.apply(i), HttpResponse.BodyHandlers.ofString())
                    .whenComplete((response, failure) -> {
                        long now = System.nanoTime();
                        latencies[index] = now - sent;
                        completions[index] = now - start;
                        inFlight.release();
                        if (failure != null || response.statusCode() / 100 != 2) {
                            failures.incrementAndGet();
                            errors.add(failure != null ? failure.toString() : response.statusCode() + " " + response.body());
                            return;
                        }
                        try {
                            onBody.accept(index, response.body());
                        } catch (IOException e) {
                            failures.incrementAndGet();
                        }
                    }));
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        long elapsed = System.nanoTime() - start;
        if (!errors.isEmpty()) {
            System.out.println("  first failure: " + errors.peek());
        }
        return new Phase(latencies, completions, elapsed, failures.get());
    }

    private HttpRequest request(String method, String path, String token, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request.build();
    }

    private record Answer(int status, JsonNode body) {}

    private Answer call(String method, String path, String token, String body) throws Exception {
        HttpResponse<String> response = http.send(request(method, path, token, body),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " answered " + response.statusCode() + " "
                    + response.body());
        }
        return new Answer(response.statusCode(), JSON.readTree(response.body()));
    }

    private static String endpointReport(int device, int round) {
        return "{\"endpoints\":[{\"address\":\"203.0." + (device / 250 % 250) + "." + (device % 250 + 1) + ":"
                + (40_000 + round) + "\",\"source\":\"stun\"}],\"nat\":{\"classic\":\"port-restricted\"}}";
    }

    /** CPU time of the whole process (every thread: control, the load generator, the JIT compiler and GC). */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * The process's CPU time per request since {@code since}: less exposed than a rate to what else runs on the
     * machine, which takes cores away but not CPU time from the process.
     */
    private static void printCpu(long since, int requests) {
        System.out.printf("  process CPU: %.2f ms per registration (control, the load generator, JIT and GC)%n",
                (processCpuNanos() - since) / 1e6 / requests);
    }

    private static String randomKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    /**
     * One open peer-map stream. Its bytes are scanned, not decoded: 300 snapshots of 10,000 peers are half a
     * gigabyte, and one client decoding them into strings would measure itself rather than the server.
     */
    private final class Watcher implements Flow.Subscriber<List<ByteBuffer>> {
        private static final byte[] SNAPSHOT_START = "{\"type\":\"snapshot\"".getBytes(StandardCharsets.UTF_8);

        final CountDownLatch snapshot = new CountDownLatch(1);
        /** A line at {@link #syncRevision} or later has arrived (after a snapshot, when one is awaited). */
        final CountDownLatch synced = new CountDownLatch(1);
        volatile long syncedMillis;
        private volatile long syncRevision = Long.MAX_VALUE;
        private volatile boolean syncNeedsSnapshot;
        /** The first bytes of the current line, where its type and revision are. */
        private final byte[] lineHead = new byte[64];
        private int lineHeadLength;
        private boolean snapshotSeen;
        /** Inflates a gzip stream (null: plain); the gzip header's bytes still to skip. */
        private final java.util.zip.Inflater inflater;
        private int headerToSkip = 10;
        /** Bytes received, and bytes of NDJSON they held (the same without gzip). */
        volatile long received;
        volatile long decoded;
        /** The HTTP status control answered. */
        private volatile int status;
        /** Control answered: the stream is open. */
        final CountDownLatch connected = new CountDownLatch(1);
        volatile long snapshotNanos;
        private volatile byte[] marker;
        private volatile CountDownLatch arrived;
        volatile long arrivedNanos;
        volatile long arrivedMillis;
        volatile boolean failed;
        /** Why the stream ended (null while open). */
        volatile String endedBy;
        private Flow.Subscription subscription;
        /** Bytes of the current line so far, up to the length of {@link #SNAPSHOT_START}. */
        private int lineStartLength;
        private boolean lineIsSnapshot = true;
        /** How many bytes of {@link #matching} the bytes seen last end with (a marker split across buffers). */
        private int matched;
        /** The marker {@link #matched} counts for (reset when another is expected). */
        private byte[] matching;
        private int[] fallback;

        Watcher(String token) {
            this(token, "");
        }

        Watcher(String token, String query) {
            this(token, query, GZIP, Long.MAX_VALUE, false);
        }

        /**
         * A stream that counts as in sync once a line at {@code syncRevision} or later has arrived, after a snapshot
         * when {@code needsSnapshot}; in gzip when {@code gzip} (then inflated as it arrives, and scanned the same).
         */
        Watcher(String token, String query, boolean gzip, long syncRevision, boolean needsSnapshot) {
            this.syncRevision = syncRevision;
            this.syncNeedsSnapshot = needsSnapshot;
            this.inflater = gzip ? new java.util.zip.Inflater(true) : null;
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/api/v1/peers/stream" + query))
                    .header("Authorization", "Bearer " + token);
            if (gzip) {
                request.header("Accept-Encoding", "gzip");
            }
            // A request that fails before any response (a connect timeout) never reaches the subscriber.
            http.sendAsync(request.build(), info -> {
                        status = info.statusCode();
                        return HttpResponse.BodySubscribers.fromSubscriber(this);
                    })
                    .whenComplete((response, failure) -> {
                        if (failure != null) {
                            onError(failure);
                        }
                    });
        }

        void expect(String nextMarker, CountDownLatch latch) {
            arrived = latch;
            marker = nextMarker.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            connected.countDown();
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                received += bytes.length;
                // An answer other than 200 (a 503, a 429) is a short text, never gzip: scanned as it is.
                if (inflater == null || status != 200) {
                    decoded += bytes.length;
                    scan(bytes);
                    continue;
                }
                int skip = Math.min(headerToSkip, bytes.length);
                headerToSkip -= skip;
                inflater.setInput(bytes, skip, bytes.length - skip);
                byte[] out = new byte[64 * 1024];
                try {
                    for (int n = inflater.inflate(out); n > 0; n = inflater.inflate(out)) {
                        decoded += n;
                        scan(Arrays.copyOf(out, n));
                    }
                } catch (java.util.zip.DataFormatException e) {
                    onError(e);
                    return;
                }
            }
        }

        private void scan(byte[] bytes) {
            if (synced.getCount() > 0) {
                scanForSync(bytes);
            }
            if (snapshot.getCount() > 0) {
                scanForSnapshot(bytes);
            }
            byte[] expected = marker;
            if (expected != null) {
                scanForMarker(bytes, expected);
            }
        }

        /** Reads each line's type and revision from its first bytes, as its end arrives. */
        private void scanForSync(byte[] bytes) {
            for (byte b : bytes) {
                if (b != '\n') {
                    if (lineHeadLength < lineHead.length) {
                        lineHead[lineHeadLength++] = b;
                    }
                    continue;
                }
                String head = new String(lineHead, 0, lineHeadLength, StandardCharsets.UTF_8);
                lineHeadLength = 0;
                snapshotSeen |= head.startsWith("{\"type\":\"snapshot\"");
                int at = head.indexOf("\"revision\":");
                if (at < 0 || syncNeedsSnapshot && !snapshotSeen) {
                    continue;
                }
                int from = at + "\"revision\":".length();
                int to = from;
                while (to < head.length() && Character.isDigit(head.charAt(to))) {
                    to++;
                }
                if (to > from && Long.parseLong(head.substring(from, to)) >= syncRevision) {
                    syncedMillis = System.currentTimeMillis();
                    synced.countDown();
                    return;
                }
            }
        }

        /** The snapshot has arrived when a line that starts like one has ended. */
        private void scanForSnapshot(byte[] bytes) {
            for (byte b : bytes) {
                if (b == '\n') {
                    if (lineIsSnapshot && lineStartLength == SNAPSHOT_START.length) {
                        snapshotNanos = System.nanoTime();
                        snapshot.countDown();
                        return;
                    }
                    lineStartLength = 0;
                    lineIsSnapshot = true;
                } else if (lineStartLength < SNAPSHOT_START.length) {
                    lineIsSnapshot &= b == SNAPSHOT_START[lineStartLength];
                    lineStartLength++;
                }
            }
        }

        /**
         * Finds {@code expected} in the bytes as they arrive (Knuth-Morris-Pratt: no copy of what was seen, so the
         * client allocates nothing per buffer; it ran in the same JVM as control, whose collections it lengthened).
         */
        private void scanForMarker(byte[] bytes, byte[] expected) {
            if (matching != expected) {
                matching = expected;
                matched = 0;
                fallback = new int[expected.length];
                for (int i = 1, k = 0; i < expected.length; i++) {
                    while (k > 0 && expected[i] != expected[k]) {
                        k = fallback[k - 1];
                    }
                    if (expected[i] == expected[k]) {
                        k++;
                    }
                    fallback[i] = k;
                }
            }
            for (byte b : bytes) {
                while (matched > 0 && b != expected[matched]) {
                    matched = fallback[matched - 1];
                }
                if (b == expected[matched]) {
                    matched++;
                }
                if (matched == expected.length) {
                    marker = null;
                    matching = null;
                    matched = 0;
                    arrivedNanos = System.nanoTime();
                    arrivedMillis = System.currentTimeMillis();
                    arrived.countDown();
                    return;
                }
            }
        }

        @Override
        public void onError(Throwable failure) {
            failed = snapshot.getCount() > 0;
            endedBy = String.valueOf(failure);
            snapshot.countDown();
            synced.countDown();
            connected.countDown();
        }

        /** The server ends a stream it could not serve; one that ends before its snapshot failed. */
        @Override
        public void onComplete() {
            failed = snapshot.getCount() > 0;
            endedBy = "ended by control (HTTP " + status + ")";
            snapshot.countDown();
            synced.countDown();
            connected.countDown();
        }

        void close() {
            if (subscription != null) {
                subscription.cancel();
            }
        }
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long percentile(long[] sorted, int percent) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(percent / 100.0 * sorted.length) - 1)];
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }
}
