package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.OrganizationState;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import io.meshwork.protocol.api.SecurityPolicy;
import java.util.Set;
import java.util.HashSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The map a feed keeps by applying deltas must be, at every revision and for every device, the full map and policy
 * the organization itself would build for that device.
 */
class FullPeerMapTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.parseString(
                            "pekko.actor.provider = local\n"
                                    + "pekko.actor.serialization-bindings {\"io.meshwork.control.CborSerializable\" = jackson-cbor}"))
                    .withFallback(ConfigFactory.load()));

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EventSourcedBehaviorTestKit<Organization.Command, Organization.Event, OrganizationState> org =
            EventSourcedBehaviorTestKit.create(TEST_KIT.system(), Organization.create("org-full", 50));

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private Organization.Reply run(Function<ActorRef<Organization.Reply>, Organization.Command> command) {
        return org.<Organization.Reply>runCommand(command).reply();
    }

    private Organization.PeerMap peerMap(long since, String deviceId) {
        return run(r -> new Organization.GetPeerMap(since, deviceId, r)).peerMap();
    }

    private static List<PeerInfo> inSnapshotOrder(List<PeerInfo> peers) {
        return peers.stream().sorted(Comparator.comparing(PeerInfo::hostname).thenComparing(PeerInfo::id)).toList();
    }

    /**
     * Also the feed's visibility: moved by the same deltas, it gives every device the peers the organization would
     * let it learn, and the streams' maps built from the deltas' views alone (entered, left, and upserts of peers the
     * device may see) hold exactly those peers, never one the policy hides.
     */
    @Test
    void aMapMovedOnByDeltasIsTheOrganizationsFullMapForEveryDevice() throws Exception {
        run(r -> new Organization.Create("acme", "100.64.0.0/10", "api-hash", 1000, r));
        run(r -> new Organization.CreateKey("k", "secret-k", true, 0, 1000, r));
        FullPeerMap kept = FullPeerMap.of(peerMap(0, null));
        FeedVisibility visibility = new FeedVisibility(kept);
        Map<String, Set<String>> streams = new HashMap<>();
        Random random = new Random(7);
        List<String> devices = new ArrayList<>();
        List<String> tags = List.of("web", "db", "guest");
        for (int round = 0; round < 300; round++) {
            int step = round;
            int choice = devices.size() < 4 ? 0 : random.nextInt(11);
            String some = devices.isEmpty() ? null : devices.get(random.nextInt(devices.size()));
            String tag = tags.get(random.nextInt(tags.size()));
            switch (choice) {
                case 0, 1 -> {
                    String id = "d" + step;
                    String hostname = random.nextInt(3) == 0 ? "db" + step : "web" + step;
                    run(r -> new Organization.Register("k", "secret-k", id, "pk" + step, hostname, Map.of(), List.of(),
                            "token", "serial", 2000, r));
                    devices.add(id);
                }
                case 2, 3, 4 -> run(r -> new Organization.ReportEndpoints(some,
                        List.of(new Endpoint("203.0.113." + random.nextInt(250) + ":41641", "stun")), Map.of(), 3000, r));
                case 5 -> run(r -> new Organization.PatchDevice(some, (random.nextBoolean() ? "db" : "web") + some,
                        null, random.nextBoolean() ? List.of(tag) : List.of(), r));
                case 6 -> run(r -> new Organization.RevokeDevice(some, r));
                case 7 -> {
                    run(r -> new Organization.DeleteDevice(some, r));
                    devices.remove(some);
                }
                case 8 -> run(r -> new Organization.SaveSecurityGroup(new Organization.SecurityGroup("database",
                        List.of(some, "tag:db"),
                        List.of(new Organization.Rule("tcp", "5432", List.of("group:web", "tag:" + tag)))), r));
                case 9 -> run(r -> new Organization.DeleteSecurityGroup(random.nextBoolean() ? "web" : "database", r));
                default -> run(r -> new Organization.SaveSecurityGroup(new Organization.SecurityGroup("web",
                        List.of(some, random.nextInt(10) == 0 ? "*" : "tag:web"),
                        List.of(new Organization.Rule("tcp", "443", List.of(random.nextBoolean() ? "0.0.0.0/0"
                                : "tag:" + tag)))), r));
            }
            // The feed asks at its own pace: sometimes after every change, sometimes after several.
            if (random.nextInt(3) == 0) {
                continue;
            }
            Organization.PeerMap delta = peerMap(kept.revision(), null);
            FullPeerMap next = kept.next(delta);
            FeedVisibility.View view = visibility.moveOn(kept, delta, next);
            kept = next;
            for (Map.Entry<String, Set<String>> stream : streams.entrySet()) {
                String watcher = stream.getKey();
                for (PeerInfo peer : delta.peers()) {
                    if (!peer.id().equals(watcher) && view.sees(watcher, peer.id())) {
                        stream.getValue().add(peer.id());
                    }
                }
                stream.getValue().addAll(view.entered().getOrDefault(watcher, Set.of()));
                stream.getValue().removeAll(view.left().getOrDefault(watcher, Set.of()));
            }
            assertEquals(org.getState().revision(), kept.revision());
            for (String watcher : devices) {
                if (!active().devices().get(watcher).status().equals(Organization.DeviceRecord.ACTIVE)) {
                    continue; // A revoked device has no stream.
                }
                Organization.PeerMap expected = peerMap(0, watcher);
                Set<String> visible = visibility.visibleTo(watcher);
                Organization.PeerMap actual = kept.forWatcher(watcher, visible, visibility.policyOf(watcher));
                assertTrue(actual.full());
                assertEquals(expected.revision(), actual.revision());
                assertEquals(inSnapshotOrder(expected.peers()), actual.peers(), "peers at step " + step);
                assertEquals(expected.policy(), actual.policy(), "policy of " + watcher + " at step " + step);
                assertEquals(expected.overlayPrefixes(), actual.overlayPrefixes(), "overlay prefixes at step " + step);
                List<PeerInfo> others = actual.peers().stream().filter(peer -> !peer.id().equals(watcher)).toList();
                assertEquals(JSON.readTree(JSON.writeValueAsString(new PeerMapEvent(PeerMapEvent.SNAPSHOT,
                                actual.revision(), others, List.of(), actual.policy(), actual.overlayPrefixes()))),
                        JSON.readTree(kept.snapshotLine(watcher, visible, actual.policy(), JSON).utf8String()),
                        "the snapshot line rendered from shared bytes is the event as JSON renders it");
                Set<String> expectedIds = new HashSet<>();
                others.forEach(peer -> expectedIds.add(peer.id()));
                if (streams.containsKey(watcher)) {
                    assertEquals(expectedIds, streams.get(watcher), "the map a stream built, step " + step);
                } else {
                    streams.put(watcher, expectedIds);
                }
            }
            streams.keySet().removeIf(watcher -> !active().devices().containsKey(watcher)
                    || !active().devices().get(watcher).status().equals(Organization.DeviceRecord.ACTIVE));
        }
    }

    private OrganizationState.Active active() {
        return (OrganizationState.Active) org.getState();
    }

    @Test
    void aFullMapReplacesWhatWasKept() {
        run(r -> new Organization.Create("acme", "100.64.0.0/10", "api-hash", 1000, r));
        run(r -> new Organization.CreateKey("k", "secret-k", true, 0, 1000, r));
        run(r -> new Organization.Register("k", "secret-k", "d1", "pk1", "one", Map.of(), List.of(), "t", "s", 2000, r));
        FullPeerMap kept = FullPeerMap.of(peerMap(0, null));
        run(r -> new Organization.DeleteDevice("d1", r));
        run(r -> new Organization.Register("k", "secret-k", "d2", "pk2", "two", Map.of(), List.of(), "t", "s", 2000, r));
        FullPeerMap replaced = kept.next(peerMap(0, null));
        assertEquals(List.of("d2"), replaced.forWatcher("d2", null, SecurityPolicy.OPEN).peers().stream()
                .map(PeerInfo::id).toList());
        assertThrows(IllegalArgumentException.class, () -> FullPeerMap.of(peerMap(0, "d2")),
                "a map resolved for one device cannot serve every device");
    }

    @Test
    void aStreamResumesWithTheChangedDevicesOnlyWhenNoPolicyMayHaveChangedSince() {
        run(r -> new Organization.Create("acme", "100.64.0.0/10", "api-hash", 1000, r));
        run(r -> new Organization.CreateKey("k", "secret-k", true, 0, 1000, r));
        run(r -> new Organization.Register("k", "secret-k", "d1", "pk1", "one", Map.of(), List.of(), "t", "s", 2000, r));
        run(r -> new Organization.Register("k", "secret-k", "d2", "pk2", "two", Map.of(), List.of(), "t", "s", 2000, r));
        long registered = org.getState().revision();
        run(r -> new Organization.ReportEndpoints("d1", List.of(new Endpoint("203.0.113.1:1", "stun")), Map.of(), 3000,
                r));
        FullPeerMap kept = FullPeerMap.of(peerMap(0, null));
        assertEquals(Set.of("d1"), kept.changedSince(registered), "the organization's retained changes came along");
        assertEquals(Set.of("d2", "d1"), kept.changedSince(registered - 1),
                "without groups everyone learns everyone: a registration is one more peer");
        assertEquals(Set.of(), kept.changedSince(kept.revision()));
        run(r -> new Organization.SaveSecurityGroup(new Organization.SecurityGroup("g", List.of("d1"),
                List.of(new Organization.Rule("any", null, List.of("d2")))), r));
        run(r -> new Organization.ReportEndpoints("d2", List.of(new Endpoint("203.0.113.2:2", "stun")), Map.of(), 3000,
                r));
        FullPeerMap moved = kept.next(peerMap(kept.revision(), null));
        assertEquals(null, moved.changedSince(kept.revision()), "a group changed since: the whole map");
        assertEquals(Set.of("d2"), moved.changedSince(moved.revision() - 1));
        run(r -> new Organization.Register("k", "secret-k", "d3", "pk3", "three", Map.of(), List.of(), "t", "s", 2000,
                r));
        FullPeerMap joined = moved.next(peerMap(moved.revision(), null));
        assertEquals(null, joined.changedSince(moved.revision()),
                "with groups a registration may change what others learn: the whole map");
    }

    /**
     * Snapshots built from segments shared per class of devices (those that may learn the same peers) are, for every
     * device, exactly its own: never a peer it may not learn, never itself, whatever class went first; a map moved on
     * to the next revision never hands out the previous one's segments; and gzip carries the same bytes.
     */
    @Test
    void sharedSnapshotSegmentsServeEachDeviceItsOwnMapAtItsOwnRevision() throws Exception {
        run(r -> new Organization.Create("acme", "100.64.0.0/10", "api-hash", 1000, r));
        run(r -> new Organization.CreateKey("k", "secret-k", true, 0, 1000, r));
        int devices = FullPeerMap.SEGMENT * 3 + 17;
        List<String> databases = new ArrayList<>();
        List<String> webServers = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            String id = "d" + i;
            String hostname = (i % 5 == 0 ? "db-" : i % 5 == 1 ? "web-" : "laptop-") + i;
            (i % 5 == 0 ? databases : i % 5 == 1 ? webServers : new ArrayList<String>()).add(id);
            int n = i;
            run(r -> new Organization.Register("k", "secret-k", id, "pk" + n, hostname, Map.of(), List.of(), "t",
                    "s", 2000, r));
        }
        run(r -> new Organization.SaveSecurityGroup(new Organization.SecurityGroup("web", webServers,
                List.of(new Organization.Rule("tcp", "443", List.of("0.0.0.0/0")))), r));
        run(r -> new Organization.SaveSecurityGroup(new Organization.SecurityGroup("database", databases,
                List.of(new Organization.Rule("tcp", "5432", List.of("group:web")))), r));
        FullPeerMap kept = FullPeerMap.of(peerMap(0, null));
        FeedVisibility visibility = new FeedVisibility(kept);
        // Every device, databases and laptops interleaved, so each class's segments are built by some other device.
        for (int i = devices - 1; i >= 0; i--) {
            assertSnapshotIsOwn(kept, visibility, "d" + i);
        }

        run(r -> new Organization.ReportEndpoints("d7", List.of(new Endpoint("198.51.100.9:4242", "stun")), Map.of(),
                3000, r));
        Organization.PeerMap delta = peerMap(kept.revision(), null);
        FullPeerMap moved = kept.next(delta);
        visibility.moveOn(kept, delta, moved);
        for (String watcher : List.of("d1", "d0", "d2", "d7")) {
            String line = moved.snapshotLine(watcher, visibility.visibleTo(watcher), visibility.policyOf(watcher),
                    JSON).utf8String();
            assertEquals(moved.revision(), JSON.readTree(line).get("revision").asLong());
            Set<String> visible = visibility.visibleTo(watcher);
            assertEquals(!watcher.equals("d7") && (visible == null || visible.contains("d7")),
                    line.contains("198.51.100.9:4242"),
                    "the moved peer's new endpoint in the next revision's snapshot of " + watcher);
            assertSnapshotIsOwn(moved, visibility, watcher);
        }
        String old = kept.snapshotLine("d2", null, SecurityPolicy.OPEN, JSON).utf8String();
        assertTrue(!old.contains("198.51.100.9:4242") && JSON.readTree(old).get("revision").asLong() == kept.revision(),
                "the earlier revision's map still answers that revision");
    }

    /**
     * Streams that see every peer of a delta send one shared upsert line (the same bytes, compressed once); the device
     * that changed gets nothing of its own change, and a device that does not see the changed one gets no line.
     */
    @Test
    void streamsSeeingAllOfADeltaShareItsUpsertLine() throws Exception {
        run(r -> new Organization.Create("acme", "100.64.0.0/10", "api-hash", 1000, r));
        run(r -> new Organization.CreateKey("k", "secret-k", true, 0, 1000, r));
        for (int i = 1; i <= 4; i++) {
            String id = "d" + i;
            int n = i;
            run(r -> new Organization.Register("k", "secret-k", id, "pk" + n, "host" + n, Map.of(), List.of(), "t", "s",
                    2000, r));
        }
        // Databases d1 and d4 accept from the web servers d2 and d3 only: neither database learns the other.
        run(r -> new Organization.SaveSecurityGroup(new Organization.SecurityGroup("web", List.of("d2", "d3"),
                List.of(new Organization.Rule("tcp", "443", List.of("0.0.0.0/0")))), r));
        run(r -> new Organization.SaveSecurityGroup(new Organization.SecurityGroup("database", List.of("d1", "d4"),
                List.of(new Organization.Rule("tcp", "5432", List.of("group:web")))), r));
        FullPeerMap kept = FullPeerMap.of(peerMap(0, null));
        FeedVisibility visibility = new FeedVisibility(kept);
        run(r -> new Organization.ReportEndpoints("d4", List.of(new Endpoint("198.51.100.1:1", "stun")), Map.of(), 3000,
                r));
        Organization.PeerMap changed = peerMap(kept.revision(), null);
        FullPeerMap next = kept.next(changed);
        PeerMapFeeds.Delta delta = new PeerMapFeeds.Delta(kept.revision(), changed, next,
                visibility.moveOn(kept, changed, next));
        JsonSupport json = new JsonSupport(LoggerFactory.getLogger(FullPeerMapTest.class));
        List<StreamLine> two = PeerStreamRoutes.deltaStreamLines(delta, "d2", new java.util.concurrent.atomic
                .AtomicReference<>(), json);
        List<StreamLine> three = PeerStreamRoutes.deltaStreamLines(delta, "d3", new java.util.concurrent.atomic
                .AtomicReference<>(), json);
        assertEquals(1, two.size());
        assertTrue(two.get(0).parts().get(0) == three.get(0).parts().get(0), "one shared line");
        assertTrue(two.get(0).raw().utf8String().contains("198.51.100.1:1"));
        assertEquals(List.of(), PeerStreamRoutes.deltaStreamLines(delta, "d4", new java.util.concurrent.atomic
                .AtomicReference<>(visibility.policyOf("d4")), json), "its own change is not sent back to the device");
        assertEquals(List.of(), PeerStreamRoutes.deltaStreamLines(delta, "d1", new java.util.concurrent.atomic
                .AtomicReference<>(visibility.policyOf("d1")), json), "d1 may not learn d4");
    }

    private void assertSnapshotIsOwn(FullPeerMap map, FeedVisibility visibility, String watcher) throws Exception {
        Set<String> visible = visibility.visibleTo(watcher);
        SecurityPolicy policy = visibility.policyOf(watcher);
        Organization.PeerMap expected = peerMap(0, watcher);
        List<PeerInfo> others = inSnapshotOrder(expected.peers()).stream()
                .filter(peer -> !peer.id().equals(watcher)).toList();
        StreamLine line = map.snapshot(watcher, visible, policy, JSON);
        assertEquals(JSON.readTree(JSON.writeValueAsString(new PeerMapEvent(PeerMapEvent.SNAPSHOT, map.revision(),
                        others, List.of(), expected.policy(), expected.overlayPrefixes()))),
                JSON.readTree(line.raw().utf8String()), "the snapshot of " + watcher);
        // The same bytes through the gzip encoding, shared parts deflated once.
        ByteString gzip = ByteString.emptyByteString();
        for (ByteString chunk : GzipStreamTest.encode(List.of(line))) {
            gzip = gzip.concat(chunk);
        }
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gzip.toArray()))) {
            assertEquals(line.raw().utf8String(), new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
