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
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

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

    @Test
    void aMapMovedOnByDeltasIsTheOrganizationsFullMapForEveryDevice() throws Exception {
        run(r -> new Organization.Create("acme", "100.64.0.0/10", "api-hash", 1000, r));
        run(r -> new Organization.CreateKey("k", "secret-k", true, 0, 1000, r));
        FullPeerMap kept = FullPeerMap.of(peerMap(0, null));
        Random random = new Random(7);
        List<String> devices = new ArrayList<>();
        for (int round = 0; round < 300; round++) {
            int step = round;
            int choice = devices.size() < 4 ? 0 : random.nextInt(10);
            String some = devices.isEmpty() ? null : devices.get(random.nextInt(devices.size()));
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
                        null, r));
                case 6 -> run(r -> new Organization.RevokeDevice(some, r));
                case 7 -> {
                    run(r -> new Organization.DeleteDevice(some, r));
                    devices.remove(some);
                }
                case 8 -> run(r -> new Organization.SaveSecurityGroup(new Organization.SecurityGroup("database",
                        List.of(some, "web" + random.nextInt(step + 1)),
                        List.of(new Organization.Rule("tcp", "5432", List.of("group:web", "10.0.0.0/8")))), r));
                default -> run(r -> new Organization.SaveSecurityGroup(new Organization.SecurityGroup("web",
                        List.of(some, "*".repeat(random.nextInt(10) == 0 ? 1 : 0)),
                        List.of(new Organization.Rule("tcp", "443", List.of("0.0.0.0/0")))), r));
            }
            // The feed asks at its own pace: sometimes after every change, sometimes after several.
            if (random.nextInt(3) == 0) {
                continue;
            }
            kept = kept.next(peerMap(kept.revision(), null));
            assertEquals(org.getState().revision(), kept.revision());
            for (String watcher : devices) {
                Organization.PeerMap expected = peerMap(0, watcher);
                Organization.PeerMap actual = kept.forWatcher(watcher);
                assertTrue(actual.full());
                assertEquals(expected.revision(), actual.revision());
                assertEquals(inSnapshotOrder(expected.peers()), actual.peers(), "peers at step " + step);
                assertEquals(expected.policy(), actual.policy(), "policy of " + watcher + " at step " + step);
                assertEquals(expected.overlayPrefixes(), actual.overlayPrefixes(), "overlay prefixes at step " + step);
                List<PeerInfo> others = actual.peers().stream().filter(peer -> !peer.id().equals(watcher)).toList();
                assertEquals(JSON.readTree(JSON.writeValueAsString(new PeerMapEvent(PeerMapEvent.SNAPSHOT,
                                actual.revision(), others, List.of(), actual.policy(), actual.overlayPrefixes()))),
                        JSON.readTree(kept.snapshotLine(watcher, actual.policy(), JSON).utf8String()),
                        "the snapshot line rendered from shared bytes is the event as JSON renders it");
            }
        }
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
        assertEquals(List.of("d2"), replaced.forWatcher("d2").peers().stream().map(PeerInfo::id).toList());
        assertThrows(IllegalArgumentException.class, () -> FullPeerMap.of(peerMap(0, "d2")),
                "a map resolved for one device cannot serve every device");
    }
}
