package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import io.meshwork.control.organization.DnsSettings;
import io.meshwork.control.organization.Organization;
import io.meshwork.protocol.api.DnsConfig;
import io.meshwork.protocol.api.DnsRecord;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.RelayInfo;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One peer stream as its one stage ({@link PeerStreamStage}), against a real organization and feed: keepalives
 * on an idle stream, relay-list and DNS changes reaching it, a client that reads too slowly losing deltas and still
 * ending at the organization's revision, the device's own removal ending it, and the bookkeeping when the client
 * drops it.
 */
class PeerStreamStageTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static ControlServer server;

    @BeforeAll
    static void start() throws Exception {
        server = ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                "meshwork.control.data-dir", Files.createTempDirectory("mw-stage").toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", "mwa.stage",
                "meshwork.control.metrics", "127.0.0.1:0",
                "pekko.remote.artery.canonical.port", 0))));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Organization.Reply organization(String id,
            Function<ActorRef<Organization.Reply>, Organization.Command> command) throws Exception {
        return ClusterSharding.get(server.system()).entityRefFor(Organization.ENTITY_KEY, id)
                .<Organization.Reply>ask(command::apply, Duration.ofSeconds(10))
                .toCompletableFuture().get(15, TimeUnit.SECONDS);
    }

    /** An organization with devices d1 and d2. */
    private static void organizationWithTwoDevices(String org) throws Exception {
        organization(org, replyTo -> new Organization.Create(org, "100.64.0.0/10", "h", 1, replyTo));
        organization(org, replyTo -> new Organization.CreateKey("k", "s", true, 0, 1, replyTo));
        for (String device : List.of("d1", "d2")) {
            organization(org, replyTo -> new Organization.Register("k", "s", device, "pk-" + device, device,
                    Map.of(), List.of(), "t", "serial-" + device, 2, replyTo));
        }
    }

    private static long reportEndpoint(String org, String device, String address) throws Exception {
        return organization(org, replyTo -> new Organization.ReportEndpoints(device,
                List.of(new Endpoint(address, "stun")), Map.of(), 3, replyTo)).revision();
    }

    /** The member's feeds, with relay lists read from {@code catalog} and DNS settings from {@code dns}. */
    private static final class Harness {
        final AtomicReference<RelaysForDevices.Catalog> catalog = new AtomicReference<>(catalog("r1"));
        final AtomicReference<DnsSettings.Reply> dns = new AtomicReference<>(
                new DnsSettings.Reply(200, null, dnsConfig("first.example"), 1));
        final AtomicInteger dnsReads = new AtomicInteger();
        final PeerMapFeeds feeds = new PeerMapFeeds(server.system(), Duration.ofMillis(10), Duration.ofSeconds(5));
        final RelayListFeed relays = new RelayListFeed(server.system(),
                () -> CompletableFuture.completedFuture(catalog.get()), Duration.ofMillis(50));
        final DnsFeed dnsFeed = new DnsFeed(server.system(), org -> {
            dnsReads.incrementAndGet();
            return CompletableFuture.completedFuture(dns.get());
        });
        final AtomicInteger watchers = new AtomicInteger();
        final List<String> ended = new CopyOnWriteArrayList<>();

        PeerStreamStage.Services services(Duration keepalive) {
            return new PeerStreamStage.Services(feeds, relays, dnsFeed, new JsonSupport(server.system().log()),
                    watchers, (org, device) -> ended.add(org + "/" + device), keepalive);
        }

        SinkQueueWithCancel<ByteString> open(Duration keepalive, String org, String device, long since,
                boolean fromStart) {
            return Source.fromGraph(new PeerStreamStage(services(keepalive), org, device, since, fromStart, false))
                    .runWith(Sink.queue(), server.system());
        }
    }

    private static RelaysForDevices.Catalog catalog(String relay) {
        return new RelaysForDevices.Catalog(List.of(new RelayInfo(relay, relay + ".example:3478", null, null, null)),
                List.of("stun.example:3478"), List.of());
    }

    private static DnsConfig dnsConfig(String domain) {
        return new DnsConfig(domain, List.of(new DnsRecord("r", "db." + domain, DnsRecord.A, "100.64.0.9", 60)));
    }

    /** The next line, or null when the stream ended. */
    private static JsonNode next(SinkQueueWithCancel<ByteString> stream) throws Exception {
        Optional<ByteString> line = stream.pull().toCompletableFuture().get(20, TimeUnit.SECONDS);
        if (line.isEmpty()) {
            return null;
        }
        String text = line.get().utf8String();
        assertTrue(text.endsWith("\n") && text.indexOf('\n') == text.length() - 1, "one whole line: " + text);
        return JSON.readTree(text);
    }

    /** Lines up to and including the first that matches; fails if the stream ends first. */
    private static List<JsonNode> until(SinkQueueWithCancel<ByteString> stream, Predicate<JsonNode> wanted)
            throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            assertTrue(System.nanoTime() < deadline, "no such line in 30 s; the stream sent " + lines);
            JsonNode line;
            try {
                line = next(stream);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("no line for 20 s; the stream sent " + lines, e);
            }
            assertNotNull(line, "the stream ended before the line waited for; it sent " + lines);
            lines.add(line);
            if (wanted.test(line)) {
                return lines;
            }
        }
    }

    private static void bothRelaysAndDns(SinkQueueWithCancel<ByteString> stream) throws Exception {
        boolean[] seen = new boolean[2];
        until(stream, line -> {
            seen[0] |= ofType(line, "relays");
            seen[1] |= ofType(line, "dns");
            return seen[0] && seen[1];
        });
    }

    private static boolean ofType(JsonNode line, String type) {
        return line.get("type").asText().equals(type);
    }

    @Test
    void anIdleStreamGetsKeepalivesAtItsRevisionAfterItsSnapshotRelaysAndDns() throws Exception {
        String org = "ostage-idle";
        organizationWithTwoDevices(org);
        Harness harness = new Harness();
        SinkQueueWithCancel<ByteString> stream = harness.open(Duration.ofMillis(200), org, "d2", 0, true);

        JsonNode snapshot = next(stream);
        assertEquals("snapshot", snapshot.get("type").asText());
        long revision = snapshot.get("revision").asLong();
        assertEquals(1, snapshot.get("peers").size(), "d2 learns d1 and not itself");
        assertEquals("d1", snapshot.get("peers").get(0).get("id").asText());

        List<JsonNode> lines = new ArrayList<>();
        int keepalives = 0;
        while (keepalives < 3) {
            JsonNode line = next(stream);
            lines.add(line);
            if (ofType(line, "keepalive")) {
                keepalives++;
                assertEquals(revision, line.get("revision").asLong(), "a keepalive carries the stream's revision");
            }
        }
        assertTrue(lines.stream().anyMatch(line -> ofType(line, "relays")
                && line.get("relays").get(0).get("name").asText().equals("r1")), "the relay list: " + lines);
        assertTrue(lines.stream().anyMatch(line -> ofType(line, "dns")
                && line.get("dns").get("domain").asText().equals("first.example")), "the DNS settings: " + lines);
        assertEquals(1, harness.watchers.get());
        stream.cancel();
    }

    @Test
    void relayListAndDnsChangesReachTheStreamAndAnOlderDnsVersionDoesNot() throws Exception {
        String org = "ostage-follow";
        organizationWithTwoDevices(org);
        Harness harness = new Harness();
        // Keepalives every 200 ms: a pull never waits long for a line.
        SinkQueueWithCancel<ByteString> stream = harness.open(Duration.ofMillis(200), org, "d2", 0, true);
        // A second stream of the organization shares the DNS subscription and read.
        SinkQueueWithCancel<ByteString> other = harness.open(Duration.ofSeconds(30), org, "d1", 0, true);
        // The relay list and the DNS settings follow the first map, in either order.
        bothRelaysAndDns(stream);
        bothRelaysAndDns(other);
        assertEquals(1, harness.dnsReads.get(), "one read of the settings for both streams");

        harness.catalog.set(catalog("r2"));
        List<JsonNode> lines = until(stream, line -> ofType(line, "relays"));
        assertEquals("r2", lines.get(lines.size() - 1).get("relays").get(0).get("name").asText());

        ActorRef<Topic.Command<DnsSettings.Changed>> topic = DnsSettings.topic(server.system(), org);
        // Published until it arrives: the topic's subscription settles asynchronously.
        JsonNode dns = null;
        for (int attempt = 0; attempt < 50 && dns == null; attempt++) {
            topic.tell(Topic.publish(new DnsSettings.Changed(dnsConfig("stale.example"), 1)));
            topic.tell(Topic.publish(new DnsSettings.Changed(dnsConfig("second.example"), 2)));
            Optional<ByteString> line = stream.pull().toCompletableFuture().get(20, TimeUnit.SECONDS);
            assertTrue(line.isPresent());
            JsonNode event = JSON.readTree(line.get().utf8String());
            if (ofType(event, "dns")) {
                dns = event;
            }
        }
        assertNotNull(dns, "the DNS change reached the stream");
        assertEquals("second.example", dns.get("dns").get("domain").asText(),
                "an older version than the one sent never follows it");
        stream.cancel();
        other.cancel();
    }

    @Test
    void aClientThatReadsTooSlowlyLosesDeltasAndStillEndsAtTheOrganizationsRevision() throws Exception {
        String org = "ostage-slow";
        organizationWithTwoDevices(org);
        Harness harness = new Harness();
        SinkQueueWithCancel<ByteString> stream = harness.open(Duration.ofSeconds(30), org, "d2", 0, true);
        assertEquals("snapshot", next(stream).get("type").asText());

        // The stream is not read while more changes go by than its inbox and the sink's buffer hold.
        int changes = PeerMapFeeds.STREAM_QUEUE * 3;
        long last = 0;
        for (int i = 0; i < changes; i++) {
            last = reportEndpoint(org, "d1", "198.51.100.1:" + (10_000 + i));
            Thread.sleep(20);
        }
        long finalRevision = last;
        // The catch-up after the gap: d1's upsert, or the whole map when the feed no longer remembers every change.
        List<JsonNode> lines = until(stream, line -> line.get("revision").asLong() >= finalRevision
                && (ofType(line, "upsert") || ofType(line, "snapshot")));
        List<JsonNode> maps = lines.stream().filter(line -> ofType(line, "upsert") || ofType(line, "snapshot"))
                .toList();
        assertTrue(maps.size() < changes, "deltas beyond its inbox were lost: " + maps.size());
        JsonNode latest = maps.get(maps.size() - 1);
        assertEquals(finalRevision, latest.get("revision").asLong());
        JsonNode d1 = null;
        for (JsonNode peer : latest.get("peers")) {
            d1 = peer.get("id").asText().equals("d1") ? peer : d1;
        }
        assertNotNull(d1, "the catch-up has d1: " + latest);
        assertEquals("198.51.100.1:" + (10_000 + changes - 1), d1.get("endpoints").get(0).get("address").asText(),
                "the catch-up after the gap has d1's latest endpoint");
        long previous = 0;
        for (JsonNode map : maps) {
            assertTrue(map.get("revision").asLong() > previous, "revisions only move on");
            previous = map.get("revision").asLong();
        }
        stream.cancel();
    }

    @Test
    void theDevicesOwnRemovalEndsItsStreamAndTheBookkeepingRunsOnce() throws Exception {
        String org = "ostage-removed";
        organizationWithTwoDevices(org);
        Harness harness = new Harness();
        SinkQueueWithCancel<ByteString> removed = harness.open(Duration.ofSeconds(30), org, "d2", 0, true);
        SinkQueueWithCancel<ByteString> staying = harness.open(Duration.ofSeconds(30), org, "d1", 0, true);
        long revision = next(removed).get("revision").asLong();
        until(staying, line -> ofType(line, "snapshot"));
        assertEquals(2, harness.watchers.get());

        organization(org, replyTo -> new Organization.DeleteDevice("d2", replyTo));
        JsonNode line;
        do {
            line = next(removed);
            assertTrue(line == null || !ofType(line, "remove"), "the removed device is not told of itself: " + line);
        } while (line != null);
        // The other stream learns of it.
        List<JsonNode> lines = until(staying, event -> ofType(event, "remove"));
        assertEquals("d2", lines.get(lines.size() - 1).get("removed").get(0).asText());
        assertTrue(lines.get(lines.size() - 1).get("revision").asLong() > revision);

        awaitTrue(() -> harness.watchers.get() == 1, "the ended stream is no longer counted");
        assertEquals(List.of(org + "/d2"), harness.ended, "ended is told once, of the ended stream");

        // The client drops the other: counted off, told once.
        staying.cancel();
        awaitTrue(() -> harness.watchers.get() == 0, "a dropped stream is no longer counted");
        assertEquals(List.of(org + "/d2", org + "/d1"), harness.ended);
        assertEquals(0, harness.relays.followers(), "neither follows the relay list any more");
        assertEquals(0, harness.dnsFeed.followers(org), "nor the DNS settings");
        assertFalse(harness.feeds.running(org), "the organization's feed stopped with its last stream");
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(10);
        }
    }
}
