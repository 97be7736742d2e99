package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.typesafe.config.ConfigFactory;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PolicyRule;
import io.meshwork.protocol.api.SecurityPolicy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OrganizationTest {

    private static final ActorTestKit TEST_KIT =
            ActorTestKit.create(
                    EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.parseString(
                            "pekko.actor.provider = local\n"
                                    + "pekko.actor.serialization-bindings {\"io.meshwork.control.CborSerializable\" = jackson-cbor}"))
                            .withFallback(ConfigFactory.load()));

    private EventSourcedBehaviorTestKit<Organization.Command, Organization.Event, OrganizationState> org;

    @BeforeEach
    void fresh() {
        org = EventSourcedBehaviorTestKit.create(TEST_KIT.system(), Organization.create("org-1", 3));
    }

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private OrganizationState.Active active() {
        return (OrganizationState.Active) org.getState();
    }

    private Organization.Reply created() {
        return org.<Organization.Reply>runCommand(replyTo ->
                new Organization.Create("acme", "100.64.0.0/10", "api-hash", 1000, replyTo)).reply();
    }

    private void key(String id, boolean reusable, long expiresAt) {
        org.<Organization.Reply>runCommand(replyTo ->
                new Organization.CreateKey(id, "secret-" + id, reusable, expiresAt, 1000, replyTo));
    }

    private CommandResultWithReply<Organization.Command, Organization.Event, OrganizationState, Organization.Reply>
            register(String keyId, String deviceId, String publicKey, long now) {
        return org.runCommand(replyTo -> new Organization.Register(keyId, "secret-" + keyId, deviceId, publicKey,
                deviceId + "-host", Map.of(), List.of(), "token-" + deviceId, "serial-" + deviceId, now, replyTo));
    }

    @Test
    void createsOnceAndAnswers404BeforeCreation() {
        assertEquals(404, org.<Organization.Reply>runCommand(Organization.Get::new).reply().status());
        Organization.Reply reply = created();
        assertEquals(200, reply.status());
        assertEquals("acme", reply.summary().name());
        var again = org.<Organization.Reply>runCommand(replyTo ->
                new Organization.Create("acme", "100.64.0.0/10", "x", 1, replyTo));
        assertEquals(409, again.reply().status());
        assertTrue(again.hasNoEvents());
    }

    @Test
    void deletionAnswersTheDevicesCertificateSerialsAndKeepsThemForARetry() {
        created();
        key("k", true, 0);
        register("k", "d1", "pk1", 2000);
        register("k", "d2", "pk2", 2000);
        var deleted = org.<Organization.Reply>runCommand(Organization.Delete::new);
        assertEquals(200, deleted.reply().status());
        assertEquals(Set.of("serial-d1", "serial-d2"), Set.copyOf(deleted.reply().certificateSerials()));
        new SerializationTestKit(TEST_KIT.system()).verifySerialization(deleted.event(), true);
        org.restart();
        var again = org.<Organization.Reply>runCommand(Organization.Delete::new);
        assertEquals(404, again.reply().status());
        assertTrue(again.hasNoEvents());
        assertEquals(Set.of("serial-d1", "serial-d2"), Set.copyOf(again.reply().certificateSerials()),
                "a retry still finds the serials to revoke");
        assertEquals(404, org.<Organization.Reply>runCommand(Organization.Get::new).reply().status());
    }

    @Test
    void registrationHandsOutFreshAddressesAndHonoursKeyRules() {
        created();
        key("single", false, 0);
        key("expiring", true, 5000);
        var first = register("single", "d1", "pk1", 2000);
        assertEquals(200, first.reply().status());
        assertEquals(List.of("100.64.0.1", Ipam.ulaHost("org-1", 1)), first.reply().device().overlayIps());
        assertEquals(Organization.DeviceRegistered.class, first.event().getClass());

        var reuse = register("single", "d2", "pk2", 2000);
        assertEquals(401, reuse.reply().status());
        assertEquals("registration key already used", reuse.reply().error());
        assertTrue(reuse.hasNoEvents());

        assertEquals("100.64.0.2", register("expiring", "d2", "pk2", 4000).reply().device().overlayIps().get(0));
        assertEquals("registration key expired", register("expiring", "d3", "pk3", 6000).reply().error());
        assertEquals(409, register("expiring", "d4", "pk1", 4000).reply().status(), "same public key twice");
        assertEquals(401, org.<Organization.Reply>runCommand(replyTo -> new Organization.Register("expiring",
                "wrong-secret", "d5", "pk5", "h", Map.of(), List.of(), "t", "s", 4000, replyTo)).reply().status());
    }

    @Test
    void aKeyThatRequiresApprovalRegistersPendingDevicesThatJoinThePeerMapWhenApproved() {
        created();
        org.<Organization.Reply>runCommand(replyTo ->
                new Organization.CreateKey("gated", "secret-gated", true, 0, 1000, true, replyTo));
        key("open", true, 0);
        register("open", "d1", "pk1", 2000);
        var pending = register("gated", "d2", "pk2", 2000);
        assertEquals("pending", pending.reply().device().status());
        assertEquals("100.64.0.2", pending.reply().device().overlayIps().get(0), "its address is reserved");
        long beforeApproval = org.getState().revision();
        Organization.PeerMap map = org.<Organization.Reply>runCommand(r -> new Organization.GetPeerMap(0, r))
                .reply().peerMap();
        assertEquals(List.of("d1"), map.peers().stream().map(p -> p.id()).toList(), "pending devices are no one's peer");
        assertEquals(404, org.<Organization.Reply>runCommand(r -> new Organization.ReportEndpoints("d2", List.of(),
                null, 1, r)).reply().status(), "the organization takes no reports of a pending device");

        var approved = org.<Organization.Reply>runCommand(r -> new Organization.ApproveDevice("d2", r));
        assertEquals("active", approved.reply().device().status());
        assertEquals(Organization.DeviceApproved.class, approved.event().getClass());
        Organization.PeerMap delta = org.<Organization.Reply>runCommand(r ->
                new Organization.GetPeerMap(beforeApproval, r)).reply().peerMap();
        assertEquals(List.of("d2"), delta.peers().stream().map(p -> p.id()).toList(), "approval is a peer-map change");
        assertTrue(org.<Organization.Reply>runCommand(r -> new Organization.ApproveDevice("d2", r)).hasNoEvents(),
                "approving again changes nothing");
        org.<Organization.Reply>runCommand(r -> new Organization.RevokeDevice("d2", r));
        assertEquals(409, org.<Organization.Reply>runCommand(r -> new Organization.ApproveDevice("d2", r))
                .reply().status(), "a revoked device stays revoked");
        assertEquals(404, org.<Organization.Reply>runCommand(r -> new Organization.ApproveDevice("d9", r))
                .reply().status());
        org.restart();
        assertTrue(active().keys().get("gated").approvalRequired());
        assertFalse(active().keys().get("open").approvalRequired());
    }

    @Test
    void revokedKeysRegisterNothing() {
        created();
        key("k", true, 0);
        assertEquals(200, org.<Organization.Reply>runCommand(r -> new Organization.RevokeKey("k", r)).reply().status());
        assertEquals("registration key revoked", register("k", "d1", "pk1", 2000).reply().error());
    }

    @Test
    void peerMapGivesDeltasSinceARetainedRevisionElseASnapshot() {
        created();
        key("k", true, 0);
        register("k", "d1", "pk1", 2000);
        register("k", "d2", "pk2", 2000);
        long afterTwo = org.getState().revision();
        org.<Organization.Reply>runCommand(r -> new Organization.ReportEndpoints("d1",
                List.of(new Endpoint("203.0.113.7:41641", "stun")), Map.of("classic", "symmetric"), 3000, r));
        org.<Organization.Reply>runCommand(r -> new Organization.RevokeDevice("d2", r));

        Organization.PeerMap delta = org.<Organization.Reply>runCommand(r ->
                new Organization.GetPeerMap(afterTwo, r)).reply().peerMap();
        assertFalse(delta.full());
        assertEquals(afterTwo + 2, delta.revision());
        assertEquals(List.of("d1"), delta.peers().stream().map(p -> p.id()).toList());
        assertEquals("203.0.113.7:41641", delta.peers().get(0).endpoints().get(0).address());
        assertEquals(List.of("d2"), delta.removed());

        Organization.PeerMap snapshot = org.<Organization.Reply>runCommand(r ->
                new Organization.GetPeerMap(0, r)).reply().peerMap();
        assertTrue(snapshot.full());
        assertEquals(List.of("d1"), snapshot.peers().stream().map(p -> p.id()).toList(), "revoked devices are not peers");

        Organization.PeerMap upToDate = org.<Organization.Reply>runCommand(r ->
                new Organization.GetPeerMap(delta.revision(), r)).reply().peerMap();
        assertFalse(upToDate.full());
        assertTrue(upToDate.peers().isEmpty() && upToDate.removed().isEmpty());
    }

    @Test
    void changesOnlyAreTheDeltaWhileKeptElse410AndNeverTheWholeMap() {
        created();
        key("k", true, 0);
        register("k", "d1", "pk1", 2000);
        register("k", "d2", "pk2", 2000);
        long afterTwo = org.getState().revision();
        org.<Organization.Reply>runCommand(r -> new Organization.ReportEndpoints("d2",
                List.of(new Endpoint("203.0.113.7:41641", "stun")), Map.of(), 3000, r));
        Organization.Reply kept = org.<Organization.Reply>runCommand(r ->
                new Organization.GetPeerMapChanges(afterTwo, "d1", r)).reply();
        assertEquals(200, kept.status());
        assertEquals(peerMap(afterTwo, "d1"), kept.peerMap(), "the same delta GetPeerMap gives");

        for (int i = 0; i < Organization.RETAINED_CHANGES; i++) {
            int port = 1024 + i;
            org.<Organization.Reply>runCommand(r -> new Organization.ReportEndpoints("d2",
                    List.of(new Endpoint("203.0.113.7:" + port, "stun")), Map.of(), 3000, r));
        }
        Organization.Reply forgotten = org.<Organization.Reply>runCommand(r ->
                new Organization.GetPeerMapChanges(afterTwo, "d1", r)).reply();
        assertEquals(410, forgotten.status());
        assertEquals(null, forgotten.peerMap());
        assertTrue(peerMap(afterTwo, "d1").full(), "GetPeerMap answers the same watcher with the whole map");
        assertEquals(410, org.<Organization.Reply>runCommand(r -> new Organization.GetPeerMapChanges(0, "d1", r))
                .reply().status(), "revision 0 is before everything");
        long now = org.getState().revision();
        assertEquals(200, org.<Organization.Reply>runCommand(r ->
                new Organization.GetPeerMapChanges(now - Organization.RETAINED_CHANGES, "d1", r)).reply().status(),
                "the oldest revision still kept");

        var none = EventSourcedBehaviorTestKit.<Organization.Command, Organization.Event, OrganizationState>create(
                TEST_KIT.system(), Organization.create("org-none", 3));
        assertEquals(404, none.<Organization.Reply>runCommand(r -> new Organization.GetPeerMapChanges(1, "d1", r))
                .reply().status());
    }

    private Organization.PeerMap peerMap(long since, String deviceId) {
        return org.<Organization.Reply>runCommand(r -> new Organization.GetPeerMap(since, deviceId, r)).reply()
                .peerMap();
    }

    private void saveGroup(Organization.SecurityGroup group) {
        assertEquals(200, org.<Organization.Reply>runCommand(r -> new Organization.SaveSecurityGroup(group, r))
                .reply().status());
    }

    @Test
    void securityGroupChangesAreRevisionsAndBringTheWatchersPolicyAlong() {
        created();
        key("k", true, 0);
        org.<Organization.Reply>runCommand(replyTo -> new Organization.CreateKey("kl", "secret-kl", true, 0, 1000,
                false, List.of("laptop"), replyTo));
        register("k", "d1", "pk1", 2000);
        register("k", "d2", "pk2", 2000);
        Organization.PeerMap snapshot = peerMap(0, "d1");
        assertEquals(SecurityPolicy.OPEN, snapshot.policy(), "a snapshot carries the policy, open without groups");
        assertEquals(null, peerMap(0, null).policy(), "no watcher, no policy");

        long before = org.getState().revision();
        saveGroup(new Organization.SecurityGroup("ssh", List.of("d1"),
                List.of(new Organization.Rule("tcp", "22", List.of("group:admins")))));
        assertEquals(before + 1, org.getState().revision(), "saving a group is a change with a revision");
        Organization.PeerMap afterSave = peerMap(before, "d1");
        assertTrue(afterSave.full(), "what a device may learn may have changed: it gets the whole map again");
        assertEquals(new SecurityPolicy(true, List.of("ssh"), List.of(new PolicyRule("tcp", 22, 22, List.of()))),
                afterSave.policy(), "the referenced group does not exist yet");
        assertEquals(List.of("d1", "d2"), afterSave.peers().stream().map(PeerInfo::id).toList(),
                "d1 accepts nothing from d2, but d2 is open: d1 may send to it");

        long beforeAdmins = org.getState().revision();
        saveGroup(new Organization.SecurityGroup("admins", List.of("tag:laptop"),
                List.of(new Organization.Rule("any", null, List.of("100.64.0.0/10")))));
        assertEquals(List.of(), peerMap(beforeAdmins, "d1").policy().rules().get(0).peers(), "no laptop yet");

        // A device joins the referenced group by the tag its registration key stamps on it.
        long beforeLaptop = org.getState().revision();
        org.<Organization.Reply>runCommand(replyTo -> new Organization.Register("kl", "secret-kl", "d3", "pk3",
                "laptop", Map.of(), List.of(), "token-d3", "serial-d3", 2000, replyTo));
        assertEquals(List.of("laptop"), active().devices().get("d3").tags());
        Organization.PeerMap joined = peerMap(beforeLaptop, "d1");
        List<String> laptop = active().devices().get("d3").overlayIps();
        assertEquals(List.of(laptop.get(0) + "/32", laptop.get(1) + "/128"), joined.policy().rules().get(0).peers());

        long beforeEndpoints = org.getState().revision();
        org.<Organization.Reply>runCommand(r -> new Organization.ReportEndpoints("d3",
                List.of(new Endpoint("203.0.113.7:41641", "stun")), Map.of(), 3000, r));
        Organization.PeerMap moved = peerMap(beforeEndpoints, "d1");
        assertFalse(moved.full());
        assertEquals(null, moved.policy(), "an endpoint change cannot change a policy");
        assertEquals(List.of("d3"), moved.peers().stream().map(PeerInfo::id).toList());

        long beforeDelete = org.getState().revision();
        assertEquals(200, org.<Organization.Reply>runCommand(r -> new Organization.DeleteSecurityGroup("ssh", r))
                .reply().status());
        assertEquals(SecurityPolicy.OPEN, peerMap(beforeDelete, "d1").policy());
        org.restart();
        assertEquals(SecurityPolicy.OPEN, peerMap(beforeDelete, "d1").policy(), "group changes survive a restart");
    }

    @Test
    void aWatcherOfNoDeviceGetsTheGroupsWhenAPolicyMayHaveChangedAndTheChangesItCovers() {
        created();
        key("k", true, 0);
        register("k", "d1", "pk1", 2000);
        register("k", "d2", "pk2", 2000);
        register("k", "d3", "pk3", 2000);
        Organization.PeerMap snapshot = peerMap(0, null);
        assertEquals(Map.of(), snapshot.policyInputs().groups());
        assertEquals(List.of("d1", "d2", "d3"), snapshot.changes().stream().map(OrganizationState.Change::deviceId)
                .toList(), "a full map carries the retained changes");
        assertEquals(snapshot.revision(), snapshot.changes().get(2).revision());

        long before = org.getState().revision();
        saveGroup(new Organization.SecurityGroup("db", List.of("d1"),
                List.of(new Organization.Rule("tcp", "5432", List.of("group:web")))));
        saveGroup(new Organization.SecurityGroup("web", List.of("d2"),
                List.of(new Organization.Rule("tcp", "443", List.of("0.0.0.0/0")))));
        Organization.PeerMap shared = peerMap(before, null);
        assertEquals(null, shared.policy(), "no watcher device, no policy of its own");
        assertEquals(Set.of("db", "web"), shared.policyInputs().groups().keySet());
        assertEquals(List.of(before + 1, before + 2), shared.changes().stream().map(OrganizationState.Change::revision)
                .toList(), "the changes the delta covers");
        // The feed may run on another member than the organization.
        new SerializationTestKit(TEST_KIT.system()).verifySerialization(shared, true);

        long beforeEndpoints = org.getState().revision();
        org.<Organization.Reply>runCommand(r -> new Organization.ReportEndpoints("d2",
                List.of(new Endpoint("203.0.113.7:41641", "stun")), Map.of(), 3000, r));
        Organization.PeerMap moved = peerMap(beforeEndpoints, null);
        assertEquals(null, moved.policyInputs(), "an endpoint change cannot change a policy");
        assertEquals(List.of("d2"), moved.peers().stream().map(p -> p.id()).toList());
    }

    @Test
    void aBatchIsDecidedInOrderWrittenOnceAndAnswersEachCommandAsAlone() {
        created();
        key("single", false, 0);
        key("k", true, 0);
        register("k", "d0", "pk0", 2000);
        long before = org.getState().revision();
        TestProbe<Organization.Reply> first = TEST_KIT.createTestProbe();
        TestProbe<Organization.Reply> second = TEST_KIT.createTestProbe();
        TestProbe<Organization.Reply> sameKey = TEST_KIT.createTestProbe();
        TestProbe<Organization.Reply> report = TEST_KIT.createTestProbe();
        TestProbe<Organization.Reply> unknown = TEST_KIT.createTestProbe();
        List<Organization.Batchable> commands = List.of(
                registration("single", "d1", "pk1", first),
                registration("single", "d2", "pk2", second),
                registration("k", "d3", "pk1", sameKey),
                new Organization.ReportEndpoints("d1", List.of(new Endpoint("203.0.113.9:41641", "stun")), null,
                        3000, report.getRef()),
                new Organization.ReportEndpoints("nope", List.of(), null, 3000, unknown.getRef()));
        var batch = org.<Organization.BatchDone>runCommand(replyTo -> new Organization.Batch(commands, replyTo));

        assertEquals(2, batch.reply().written());
        assertEquals(List.of(Organization.DeviceRegistered.class, Organization.EndpointsReported.class),
                batch.events().stream().map(Object::getClass).toList());
        Organization.Reply registered = first.receiveMessage();
        assertEquals(200, registered.status());
        assertEquals("100.64.0.2", registered.device().overlayIps().get(0));
        assertEquals("203.0.113.9:41641", registered.device().endpoints().get(0).address(),
                "answers carry the state after the whole batch");
        assertEquals("registration key already used", second.receiveMessage().error(),
                "the second use of a single-use key in the same batch is refused");
        assertEquals(409, sameKey.receiveMessage().status(), "a public key registered earlier in the batch");
        assertEquals(before + 2, report.receiveMessage().revision());
        assertEquals(404, unknown.receiveMessage().status());
        assertEquals(before + 2, org.getState().revision());

        OrganizationState after = org.getState();
        org.restart();
        assertEquals(after, org.getState(), "a batch recovers like the commands written one by one");

        var nothing = org.<Organization.BatchDone>runCommand(replyTo -> new Organization.Batch(
                List.of(registration("single", "d4", "pk4", second)), replyTo));
        assertEquals(0, nothing.reply().written());
        new SerializationTestKit(TEST_KIT.system()).verifySerialization(nothing.reply(), true);
        new SerializationTestKit(TEST_KIT.system()).verifySerialization(
                new Organization.Batch(commands, TEST_KIT.<Organization.BatchDone>createTestProbe().getRef()), true);
        assertTrue(nothing.hasNoEvents());
        assertEquals(401, second.receiveMessage().status());
    }

    private static Organization.Register registration(String keyId, String deviceId, String publicKey,
            TestProbe<Organization.Reply> replyTo) {
        return new Organization.Register(keyId, "secret-" + keyId, deviceId, publicKey, deviceId + "-host", Map.of(),
                List.of(), "token-" + deviceId, "serial-" + deviceId, 2000, replyTo.getRef());
    }

    private CommandResultWithReply<Organization.Command, Organization.Event, OrganizationState, Organization.Reply>
            repeat(String keyId, String deviceId, String publicKey, String token, long now) {
        return org.runCommand(replyTo -> new Organization.RepeatRegistration(keyId, "secret-" + keyId, deviceId,
                publicKey, token, "serial-" + token, now, replyTo));
    }

    @Test
    void theKeyThatRegisteredAnUnseenDeviceMayRepeatItsRegistrationWithinTheWindow() {
        created();
        key("single", false, 0);
        key("other", true, 0);
        register("single", "d1", "pk1", 2000);
        long revision = org.getState().revision();

        var again = register("single", "d9", "pk1", 3000);
        assertEquals(Organization.Reply.REPEAT, again.reply().status(), String.valueOf(again.reply().error()));
        assertEquals("d1", again.reply().device().id());
        assertTrue(again.hasNoEvents(), "deciding a repeat writes nothing");
        assertEquals(401, register("single", "d9", "pk2", 3000).reply().status(), "the single use is spent");

        var repeated = repeat("single", "d1", "pk1", "t2", 3000);
        assertEquals(200, repeated.reply().status(), String.valueOf(repeated.reply().error()));
        assertEquals(new Organization.RegistrationRepeated("org-1", "d1", "t2", "serial-t2", 3000), repeated.event());
        Organization.DeviceRecord device = active().devices().get("d1");
        assertEquals("t2", device.tokenHash());
        assertEquals("serial-t2", device.certificateSerial());
        assertEquals(List.of("100.64.0.1", Ipam.ulaHost("org-1", 1)), device.overlayIps());
        assertEquals(revision, org.getState().revision(), "the peer map did not change");
        assertEquals(1, active().keys().get("single").uses());
        org.restart();
        assertEquals("t2", active().devices().get("d1").tokenHash(), "the new credentials replay");

        assertEquals(409, register("other", "d9", "pk1", 3000).reply().status(), "another key");
        assertEquals(409, repeat("other", "d1", "pk1", "t3", 3000).reply().status(), "another key");
        assertEquals(401, org.<Organization.Reply>runCommand(replyTo -> new Organization.RepeatRegistration("single",
                "wrong", "d1", "pk1", "t3", "s3", 3000, replyTo)).reply().status());
        assertEquals(404, repeat("single", "d1", "pk2", "t3", 3000).reply().status(), "not that device's key");

        long late = 2000 + Organization.REPEAT_WINDOW.toMillis();
        assertEquals(401, register("single", "d9", "pk1", late).reply().status(),
                "after the window, the old answer: the key is used");
        assertEquals(409, repeat("single", "d1", "pk1", "t3", late).reply().status());
        assertEquals(Organization.Reply.REPEAT, register("single", "d9", "pk1", late - 1).reply().status());

        org.<Organization.Reply>runCommand(r -> new Organization.ReportEndpoints("d1",
                List.of(new Endpoint("203.0.113.1:41641", "stun")), null, 4000, r));
        assertEquals(401, register("single", "d9", "pk1", 4000).reply().status(), "seen since it registered");
        var refused = repeat("single", "d1", "pk1", "t3", 4000);
        assertEquals(409, refused.reply().status());
        assertTrue(refused.hasNoEvents());
    }

    @Test
    void revokedDevicesRevokedOrExpiredKeysAndDevicesOfEarlierReleasesAreNotRepeated() {
        created();
        key("k", true, 0);
        key("expiring", true, 5000);
        register("k", "d1", "pk1", 2000);
        register("expiring", "d2", "pk2", 2000);
        assertEquals(Organization.Reply.REPEAT, register("expiring", "d9", "pk2", 4000).reply().status());
        assertEquals(401, register("expiring", "d9", "pk2", 5000).reply().status(), "the key expired");
        org.<Organization.Reply>runCommand(r -> new Organization.RevokeDevice("d1", r));
        assertEquals(409, register("k", "d9", "pk1", 3000).reply().status(), "a revoked device");
        assertEquals(409, repeat("k", "d1", "pk1", "t", 3000).reply().status());
        register("k", "d3", "pk3", 2000);
        org.<Organization.Reply>runCommand(r -> new Organization.RevokeKey("k", r));
        assertEquals(401, register("k", "d9", "pk3", 3000).reply().status(), "a revoked key");

        Organization.DeviceRecord old = new Organization.DeviceRecord("d4", "pk4", "h", List.of(), "t", List.of(),
                Map.of(), Map.of(), Organization.DeviceRecord.ACTIVE, 2000, 2000, "s", null);
        Organization.RegistrationKey reusable = active().keys().get("expiring");
        assertEquals("another key registered the device", Organization.repeatRefusal(reusable, old, 3000),
                "a device whose key was not recorded");
    }

    @Test
    void devicesWrittenBeforeTheRegistrationKeyWasRecordedStillReplay() throws Exception {
        created();
        key("k", true, 0);
        Organization.DeviceRegistered registered = (Organization.DeviceRegistered) register("k", "d1", "pk1", 2000)
                .event();
        assertEquals("k", registered.device().registrationKeyId());
        // The event as an earlier release wrote it: the same CBOR without the field.
        Serialization serialization = SerializationExtension.get(TEST_KIT.system());
        SerializerWithStringManifest serializer =
                (SerializerWithStringManifest) serialization.findSerializerFor(registered);
        ObjectMapper cbor = new ObjectMapper(new CBORFactory());
        ObjectNode tree = (ObjectNode) cbor.readTree(serializer.toBinary(registered));
        assertTrue(tree.path("device").has("registrationKeyId"), tree.toString());
        ((ObjectNode) tree.get("device")).remove("registrationKeyId");
        Organization.DeviceRegistered old = (Organization.DeviceRegistered) serializer.fromBinary(
                cbor.writeValueAsBytes(tree), serializer.manifest(registered));
        assertEquals(null, old.device().registrationKeyId());
        assertEquals(registered.device().id(), old.device().id());
        assertEquals(registered.device().overlayIps(), old.device().overlayIps());
        Organization.DeviceRecord oldRecord = (Organization.DeviceRecord) serialization.deserialize(
                cbor.writeValueAsBytes(tree.get("device")), serializer.identifier(),
                serializer.manifest(registered.device())).get();
        assertEquals(null, oldRecord.registrationKeyId());
        assertEquals("pk1", oldRecord.publicKey());
    }

    @Test
    void stateSurvivesARestartFromEventsAndSnapshots() {
        created();
        key("k", true, 0);
        for (int i = 0; i < 5; i++) {
            register("k", "d" + i, "pk" + i, 2000);
        }
        OrganizationState before = org.getState();
        org.restart();
        assertEquals(before, org.getState());
        assertEquals("100.64.0.6", register("k", "d9", "pk9", 2000).reply().device().overlayIps().get(0));
    }

    @Test
    void patchRevokeAndDeleteDevices() {
        created();
        key("k", true, 0);
        register("k", "d1", "pk1", 2000);
        var patched = org.<Organization.Reply>runCommand(r -> new Organization.PatchDevice("d1", "renamed",
                Map.of("role", "db"), r));
        assertEquals("renamed", patched.reply().device().hostname());
        assertEquals("revoked", org.<Organization.Reply>runCommand(r -> new Organization.RevokeDevice("d1", r))
                .reply().device().status());
        assertEquals(404, org.<Organization.Reply>runCommand(r -> new Organization.ReportEndpoints("d1", List.of(),
                null, 1, r)).reply().status(), "revoked devices cannot report");
        assertEquals(200, org.<Organization.Reply>runCommand(r -> new Organization.DeleteDevice("d1", r)).reply().status());
        assertEquals(404, org.<Organization.Reply>runCommand(r -> new Organization.DeleteDevice("d1", r)).reply().status());
    }

    @Test
    void ipamArithmetic() {
        Ipam.Cidr cidr = Ipam.Cidr.parse("100.64.0.0/10");
        assertEquals("100.64.0.1", cidr.host(1));
        assertEquals("100.64.1.0", cidr.host(256));
        // Less the network, broadcast and the nodes' resolver address 100.100.100.100, which IPAM skips.
        assertEquals((1L << 22) - 3, cidr.capacity());
        assertEquals("10.0.0.0/24", Ipam.Cidr.parse("10.0.0.77/24").toString());
        for (String bad : List.of("10.0.0.0", "10.0.0.0/7", "10.0.0.0/31", "300.0.0.0/8", "fd00::/64", "a.b.c.d/8")) {
            assertThrows(IllegalArgumentException.class, () -> Ipam.Cidr.parse(bad), bad);
        }
        assertTrue(Ipam.ulaPrefix("org-1").matches("fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::/64"), Ipam.ulaPrefix("org-1"));
        assertTrue(Ipam.ulaHost("org-1", 1).endsWith("::1"), Ipam.ulaHost("org-1", 1));
    }

    @Test
    void aRenewedCertificateReplacesTheSerialKeepsTheTokenAndReplays() {
        created();
        key("k", true, 0);
        register("k", "d1", "pk1", 2000);
        Organization.DeviceRecord before = active().devices().get("d1");
        long revision = org.getState().revision();

        var renewed = org.<Organization.Reply>runCommand(replyTo ->
                new Organization.RenewCertificate("d1", "pk1", "serial-2", 5000, replyTo));
        assertEquals(200, renewed.reply().status(), String.valueOf(renewed.reply().error()));
        assertEquals(new Organization.CertificateRenewed("org-1", "d1", "serial-2", 5000), renewed.event());
        assertEquals("serial-2", active().devices().get("d1").certificateSerial());
        assertEquals(before.tokenHash(), active().devices().get("d1").tokenHash(), "the token stays");
        assertEquals(revision, org.getState().revision(), "not a peer-map change");
        org.restart();
        assertEquals("serial-2", active().devices().get("d1").certificateSerial(), "the new serial replays");

        assertEquals(404, org.<Organization.Reply>runCommand(replyTo ->
                new Organization.RenewCertificate("d1", "pk9", "serial-3", 6000, replyTo)).reply().status(),
                "another key");
        assertEquals(404, org.<Organization.Reply>runCommand(replyTo ->
                new Organization.RenewCertificate("d7", "pk1", "serial-3", 6000, replyTo)).reply().status());
        org.<Organization.Reply>runCommand(r -> new Organization.RevokeDevice("d1", r));
        var refused = org.<Organization.Reply>runCommand(replyTo ->
                new Organization.RenewCertificate("d1", "pk1", "serial-4", 7000, replyTo));
        assertEquals(403, refused.reply().status());
        assertTrue(refused.hasNoEvents());
    }
}
