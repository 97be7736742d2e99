package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.RouteStatus;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Subnet routes and exit nodes in the organization: advertised routes wait for approval and stay out of the peer map
 * until approved by an administrator, a key or a tag; a prefix two routers advertise has one primary, the oldest
 * online, which keeps it while online and hands it over when it goes offline, without flapping back.
 */
class RoutesTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.parseString(
                    "pekko.actor.provider = local\n"
                            + "pekko.actor.serialization-bindings {\"io.meshwork.control.CborSerializable\" = jackson-cbor}"))
                    .withFallback(ConfigFactory.load()));

    private static final String LAN = "192.168.10.0/24";

    private EventSourcedBehaviorTestKit<Organization.Command, Organization.Event, OrganizationState> org;

    @BeforeEach
    void fresh() {
        org = EventSourcedBehaviorTestKit.create(TEST_KIT.system(), Organization.create("org-1", 1000, false));
        org.<Organization.Reply>runCommand(replyTo ->
                new Organization.Create("acme", "100.64.0.0/10", "api-hash", 1000, replyTo));
        key("plain", null, List.of());
    }

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private void key(String id, RouteTable.AutoApprove autoApprove, List<String> tags) {
        org.<Organization.Reply>runCommand(replyTo -> new Organization.CreateKey(id, "secret-" + id, true, 0, 1000,
                false, tags, autoApprove, replyTo));
    }

    /** Registers {@code deviceId} with key {@code keyId} at {@code now}. */
    private void register(String keyId, String deviceId, long now) {
        Organization.Reply reply = org.<Organization.Reply>runCommand(replyTo -> new Organization.Register(keyId,
                "secret-" + keyId, deviceId, "pk-" + deviceId, deviceId, Map.of(), List.of(), "token-" + deviceId,
                "serial-" + deviceId, now, replyTo)).reply();
        assertEquals(201 / 100, reply.status() / 100, String.valueOf(reply.error()));
    }

    private RouteStatus report(String deviceId, List<String> routes, boolean healthy, long now) {
        Organization.Reply reply = org.<Organization.Reply>runCommand(replyTo ->
                new Organization.ReportRoutes(deviceId, routes, healthy, now, replyTo)).reply();
        assertEquals(200, reply.status(), String.valueOf(reply.error()));
        return reply.routes();
    }

    private Organization.Reply review(String deviceId, List<String> approve, List<String> reject) {
        return org.<Organization.Reply>runCommand(replyTo ->
                new Organization.ReviewRoutes(deviceId, approve, reject, 0, replyTo)).reply();
    }

    private void check(long now) {
        org.runCommand(new Organization.CheckRoutes(now));
    }

    /** The peer map's entry for {@code deviceId}, as a peer sees it. */
    private PeerInfo peer(String deviceId) {
        Organization.PeerMap map = org.<Organization.Reply>runCommand(replyTo ->
                new Organization.GetPeerMap(0, replyTo)).reply().peerMap();
        return map.peers().stream().filter(p -> p.id().equals(deviceId)).findFirst().orElseThrow();
    }

    private Map<String, String> primaries() {
        return ((OrganizationState.Active) org.getState()).routing().primaries();
    }

    @Test
    void advertisedRoutesArePendingAndOutOfThePeerMapUntilAnAdministratorApprovesThem() {
        register("plain", "r1", 1000);
        RouteStatus status = report("r1", List.of(LAN, "0.0.0.0/0", "::/0"), true, 2000);
        assertEquals(List.of(LAN, "0.0.0.0/0", "::/0"), status.pending());
        assertEquals(List.of(), status.approved());
        assertEquals(List.of(), peer("r1").routes());
        assertFalse(peer("r1").exitNode());

        long revision = org.getState().revision();
        Organization.Reply approved = review("r1", List.of(LAN), List.of());
        assertEquals(200, approved.status());
        assertEquals(List.of(LAN), approved.routes().approved());
        assertEquals(List.of(LAN), approved.routes().primary());
        assertEquals(List.of("0.0.0.0/0", "::/0"), approved.routes().pending());
        assertTrue(org.getState().revision() > revision, "an approval is a peer-map change");
        assertEquals(List.of(LAN), peer("r1").routes());
        assertFalse(peer("r1").exitNode(), "the exit node is not approved yet");

        assertEquals(200, review("r1", List.of("0.0.0.0/0", "::/0"), List.of()).status());
        assertTrue(peer("r1").exitNode());

        Organization.Reply rejected = review("r1", List.of(), List.of(LAN));
        assertEquals(List.of(), rejected.routes().primary());
        assertEquals(List.of(), peer("r1").routes(), "a rejected route leaves the peer map");
        assertTrue(primaries().isEmpty());

        Organization.Reply notAdvertised = review("r1", List.of("10.9.0.0/16"), List.of());
        assertEquals(400, notAdvertised.status());
        assertTrue(notAdvertised.error().contains("does not advertise 10.9.0.0/16"), notAdvertised.error());
    }

    @Test
    void aKeysAutoApprovalCoversRoutesInsideItsPrefixesAndExitNodesOnlyWhenItSaysSo() {
        key("routers", new RouteTable.AutoApprove(List.of("192.168.0.0/16"), false), List.of());
        register("routers", "r1", 1000);
        RouteStatus status = report("r1", List.of(LAN, "10.1.0.0/16", "0.0.0.0/0", "::/0"), true, 2000);
        assertEquals(List.of(LAN), status.approved());
        assertEquals(List.of("10.1.0.0/16", "0.0.0.0/0", "::/0"), status.pending());
        assertEquals(List.of(LAN), peer("r1").routes());
        assertFalse(peer("r1").exitNode());

        key("exits", new RouteTable.AutoApprove(List.of(), true), List.of());
        register("exits", "x1", 1000);
        assertTrue(report("x1", List.of("0.0.0.0/0", "::/0"), true, 2000).exitNode());
        assertTrue(peer("x1").exitNode());

        // An administrator's rejection outweighs the key.
        review("r1", List.of(), List.of(LAN));
        assertEquals(List.of(), peer("r1").routes());
    }

    @Test
    void aTagsAutoApprovalAppliesToDevicesWithThatTagWhenSaved() {
        key("tagged", null, List.of("router"));
        register("tagged", "r1", 1000);
        register("plain", "r2", 1000);
        report("r1", List.of(LAN), true, 2000);
        report("r2", List.of("10.2.0.0/16"), true, 2000);
        assertEquals(List.of(), peer("r1").routes());

        long revision = org.getState().revision();
        org.<Organization.Reply>runCommand(replyTo -> new Organization.SaveRouteApprovers(
                Map.of("router", new RouteTable.AutoApprove(List.of("0.0.0.0/0"), false)), replyTo));
        assertTrue(org.getState().revision() > revision);
        assertEquals(List.of(LAN), peer("r1").routes(), "r1 has the tag");
        assertEquals(List.of(), peer("r2").routes(), "r2 does not");
        assertFalse(peer("r1").exitNode());
        assertEquals(Map.of("router", new RouteTable.AutoApprove(List.of("0.0.0.0/0"), false)),
                org.<Organization.Reply>runCommand(Organization.Get::new).reply().summary().routeApprovers());
    }

    @Test
    void theOldestOnlineRouterIsPrimaryAndTheOtherTakesOverWhenItGoesOfflineWithoutFlappingBack() {
        key("routers", new RouteTable.AutoApprove(List.of(LAN), false), List.of());
        register("routers", "old", 1000);
        register("routers", "new", 5000);
        // The newer one reports first; once both have, the older one is primary.
        report("new", List.of(LAN), true, 10_000);
        assertEquals(Map.of(LAN, "new"), primaries(), "the only router is primary");
        report("old", List.of(LAN), true, 10_500);
        assertEquals(Map.of(LAN, "new"), primaries(), "a primary that is online keeps the prefix");
        assertEquals(List.of(LAN), peer("new").routes());
        assertEquals(List.of(), peer("old").routes(), "only the primary routes the prefix in the map");

        // "new" stops reporting: 10 s after its last report it is offline and "old" takes the prefix over.
        for (long t = 11_000; t <= 19_500; t += 1_000) {
            report("old", List.of(LAN), true, t);
            check(t);
            assertEquals(Map.of(LAN, "new"), primaries(), "still within 10 s at " + t);
        }
        report("old", List.of(LAN), true, 20_000);
        check(20_100);
        assertEquals(Map.of(LAN, "old"), primaries());
        assertEquals(List.of(LAN), peer("old").routes());
        assertEquals(List.of(), peer("new").routes());

        // "new" comes back: "old" keeps the prefix.
        report("new", List.of(LAN), true, 21_000);
        report("old", List.of(LAN), true, 21_000);
        check(21_500);
        assertEquals(Map.of(LAN, "old"), primaries(), "no flap back");

        // Asked, "new" takes the prefix back; an offline router cannot be asked to.
        Organization.Reply asked = org.<Organization.Reply>runCommand(replyTo -> new Organization.ReviewRoutes("new",
                List.of(), List.of(), List.of(LAN), 21_600, replyTo)).reply();
        assertEquals(200, asked.status(), String.valueOf(asked.error()));
        assertEquals(Map.of(LAN, "new"), primaries());
        check(21_700);
        assertEquals(Map.of(LAN, "new"), primaries(), "and keeps it");
        org.<Organization.Reply>runCommand(replyTo -> new Organization.ReviewRoutes("old", List.of(), List.of(),
                List.of(LAN), 21_800, replyTo));
        assertEquals(Map.of(LAN, "old"), primaries());

        // A router that reports it cannot forward is offline at once.
        report("old", List.of(LAN), false, 22_000);
        assertEquals(Map.of(LAN, "new"), primaries());
        Organization.Reply offline = org.<Organization.Reply>runCommand(replyTo -> new Organization.ReviewRoutes("old",
                List.of(), List.of(), List.of(LAN), 22_100, replyTo)).reply();
        assertEquals(409, offline.status());
        Organization.Reply notApproved = org.<Organization.Reply>runCommand(replyTo -> new Organization.ReviewRoutes(
                "new", List.of(), List.of(), List.of("10.0.0.0/8"), 22_100, replyTo)).reply();
        assertEquals(400, notApproved.status());
    }

    @Test
    void aPrimaryWhoseStreamEndedAndThatStopsReportingHandsItsPrefixOverAfterTheGraceNotTheWindow() {
        key("routers", new RouteTable.AutoApprove(List.of(LAN), false), List.of());
        register("routers", "first", 1000);
        register("routers", "second", 2000);
        report("first", List.of(LAN), true, 10_000);
        report("second", List.of(LAN), true, 10_000);
        assertEquals(Map.of(LAN, "first"), primaries());

        // "first" is killed: its kernel closes the stream at once and no report follows.
        org.runCommand(new Organization.StreamEnded("first", 10_500));
        check(14_400);
        assertEquals(Map.of(LAN, "first"), primaries(), "still within the grace");
        report("second", List.of(LAN), true, 14_500);
        check(14_500);
        assertEquals(Map.of(LAN, "second"), primaries(), "4 s after its stream ended, not 10 s after its report");

        // A router whose stream broke but that is alive reports again within the grace and stays online.
        report("first", List.of(LAN), true, 15_000);
        org.runCommand(new Organization.StreamEnded("second", 15_000));
        report("second", List.of(LAN), true, 17_000);
        check(19_500);
        assertEquals(Map.of(LAN, "second"), primaries(), "it reported after its stream ended: still online");
        org.runCommand(new Organization.StreamEnded("second", 20_000));
        report("first", List.of(LAN), true, 23_000);
        check(23_900);
        assertEquals(Map.of(LAN, "second"), primaries());
        check(24_000);
        assertEquals(Map.of(LAN, "first"), primaries(), "silent 4 s after its second stream ended");

        // A device that routes nothing is not tracked, and an unknown device is ignored.
        org.runCommand(new Organization.StreamEnded("nobody", 24_100));
        check(24_200);
        assertEquals(Map.of(LAN, "first"), primaries());
    }

    @Test
    void electionIsDeterministicAndStickyAndSkipsInactiveDevices() {
        Organization.DeviceRecord a = device("a", 100, Organization.DeviceRecord.ACTIVE);
        Organization.DeviceRecord b = device("b", 200, Organization.DeviceRecord.ACTIVE);
        Organization.DeviceRecord c = device("c", 50, Organization.DeviceRecord.ACTIVE);
        var all = List.of(b, a, c);
        java.util.function.Function<Organization.DeviceRecord, List<String>> approved = d -> List.of(LAN);
        assertEquals(Map.of(LAN, "c"), RouteTable.elect(Map.of(), all, approved, id -> true), "oldest first");
        assertEquals(Map.of(LAN, "a"), RouteTable.elect(Map.of(), all, approved, id -> !id.equals("c")));
        assertEquals(Map.of(LAN, "b"), RouteTable.elect(Map.of(LAN, "b"), all, approved, id -> true),
                "an online primary stays");
        assertEquals(Map.of(LAN, "b"), RouteTable.elect(Map.of(LAN, "b"), all, approved, id -> false),
                "with none online the primary stays");
        assertEquals(Map.of(LAN, "c"), RouteTable.elect(Map.of(LAN, "gone"), all, approved, id -> false));
        assertEquals(Map.of(), RouteTable.elect(Map.of(LAN, "b"), List.of(), approved, id -> true));
        assertEquals(Map.of(), RouteTable.elect(Map.of(), all, d -> List.of("0.0.0.0/0", "::/0"), id -> true),
                "exit nodes have no primary");
        assertEquals(Set.of("b", "c"), RouteTable.primaryChanges(Map.of(LAN, "b"), Map.of(LAN, "c")));
    }

    @Test
    void aRevokedPrimaryHandsItsPrefixOver() {
        key("routers", new RouteTable.AutoApprove(List.of(LAN), false), List.of());
        register("routers", "r1", 1000);
        register("routers", "r2", 2000);
        report("r1", List.of(LAN), true, 10_000);
        report("r2", List.of(LAN), true, 10_000);
        assertEquals(Map.of(LAN, "r1"), primaries());
        org.<Organization.Reply>runCommand(replyTo -> new Organization.RevokeDevice("r1", replyTo));
        check(10_500);
        assertEquals(Map.of(LAN, "r2"), primaries());
        assertEquals(List.of(LAN), peer("r2").routes());
    }

    @Test
    void routeEventsAndStateSurviveRecovery() {
        key("routers", new RouteTable.AutoApprove(List.of(LAN), true), List.of());
        register("routers", "r1", 1000);
        report("r1", List.of(LAN, "0.0.0.0/0", "::/0"), true, 2000);
        org.restart();
        assertEquals(Map.of(LAN, "r1"), primaries());
        assertEquals(List.of(LAN), peer("r1").routes());
        assertTrue(peer("r1").exitNode());
    }

    private static Organization.DeviceRecord device(String id, long registered, String status) {
        return new Organization.DeviceRecord(id, "pk-" + id, id, List.of(), "t", List.of(), Map.of(), Map.of(),
                status, registered, registered, null, null);
    }
}
