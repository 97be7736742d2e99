package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.organization.Organization.DeviceRecord;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.SecurityPolicy;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.persistence.testkit.SnapshotMeta;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Journals and snapshots written before the entities' states were split by lifecycle (the bytes in
 * {@code legacy-journal.json}, see {@code legacy-journal.md}) still recover, into the states and answers they had.
 */
class LegacyJournalTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.parseString(
                            "pekko.actor.provider = local\n"
                                    + "pekko.actor.serialization-bindings {\"io.meshwork.control.CborSerializable\" = jackson-cbor}"))
                    .withFallback(ConfigFactory.load()));
    private static final String ORGANIZATION = "Organization|org-legacy";
    private static final String DEVICE = "Device|org-legacy.d1";
    private static JsonNode legacy;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = LegacyJournalTest.class.getResourceAsStream("/legacy-journal.json")) {
            legacy = new ObjectMapper().readTree(in);
        }
    }

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    /** An entry of the file as its serializer reads it today. */
    private static Object read(JsonNode entry) {
        Serialization serialization = SerializationExtension.get(TEST_KIT.system());
        return serialization.deserialize(Base64.getDecoder().decode(entry.get("bytes").asText()),
                entry.get("serializerId").asInt(), entry.get("manifest").asText()).get();
    }

    private static List<Object> events(String name, int count) {
        List<Object> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            events.add(read(legacy.get(name).get(i)));
        }
        return events;
    }

    /** A fresh entity recovered from exactly these events and, when not null, this snapshot. */
    private static <C, E, S> EventSourcedBehaviorTestKit<C, E, S> recovered(
            EventSourcedBehaviorTestKit<C, E, S> kit, String persistenceId, List<Object> events, Object snapshot,
            long snapshotSequenceNr) {
        kit.persistenceTestKit().clearAll();
        kit.snapshotTestKit().orElseThrow().clearAll();
        if (snapshot != null) {
            kit.snapshotTestKit().orElseThrow().persistForRecovery(persistenceId,
                    List.of(Pair.create(SnapshotMeta.create(snapshotSequenceNr), snapshot)));
        }
        if (!events.isEmpty()) {
            kit.persistenceTestKit().persistForRecovery(persistenceId, events);
        }
        kit.restart();
        return kit;
    }

    private static EventSourcedBehaviorTestKit<Organization.Command, Organization.Event, OrganizationState> organization() {
        return EventSourcedBehaviorTestKit.create(TEST_KIT.system(), Organization.create("org-legacy", 1000));
    }

    private static EventSourcedBehaviorTestKit<Device.Command, Device.Event, DeviceState> device() {
        return EventSourcedBehaviorTestKit.create(TEST_KIT.system(), Device.create("org-legacy.d1"));
    }

    /** What the organization was before its deletion, asked the way the API asks it. */
    private static void assertActiveOrganization(
            EventSourcedBehaviorTestKit<Organization.Command, Organization.Event, OrganizationState> org) {
        Organization.Summary summary = org.<Organization.Reply>runCommand(Organization.Get::new).reply().summary();
        assertEquals("org-legacy", summary.id());
        assertEquals("acme", summary.name());
        assertEquals("10.77.0.0/16", summary.ipv4Cidr());
        assertEquals(Ipam.ulaPrefix("org-legacy"), summary.ipv6Prefix());
        assertEquals(1000, summary.createdMillis());
        assertEquals(12, summary.revision(), "4 registrations, a report, patch, approval, revocation, deletion, 3 group changes");
        assertEquals(3, summary.deviceCount());
        assertEquals(new Organization.KeySummary("k1", true, 1100, 0, false, 3, false), summary.keys().get("k1"));
        assertEquals(new Organization.KeySummary("k2", false, 1200, 99_000, true, 1, true), summary.keys().get("k2"));
        assertEquals(Set.of("db"), summary.securityGroups().keySet());

        assertEquals(200, org.<Organization.Reply>runCommand(r -> new Organization.Authorize("api-hash", r))
                .reply().status());
        assertEquals(401, org.<Organization.Reply>runCommand(r -> new Organization.Authorize("other", r))
                .reply().status());
        assertEquals(read(legacy.get("organizationPeerMapBeforeDelete")), org.<Organization.Reply>runCommand(
                r -> new Organization.GetPeerMap(0, "org-legacy.d1", r)).reply().peerMap());

        DeviceRecord d1 = org.<Organization.Reply>runCommand(r -> new Organization.GetDevice("org-legacy.d1", r))
                .reply().device();
        assertEquals("desk", d1.hostname());
        assertEquals(List.of(new Endpoint("203.0.113.7:41641", "stun")), d1.endpoints());
        DeviceRecord d2 = org.<Organization.Reply>runCommand(r -> new Organization.GetDevice("org-legacy.d2", r))
                .reply().device();
        assertEquals(DeviceRecord.REVOKED, d2.status());
        assertEquals("token-2b", d2.tokenHash(), "the repeated registration's credentials");
        Organization.DevicePage active = org.<Organization.Reply>runCommand(
                r -> new Organization.ListDevices(DeviceRecord.ACTIVE, null, 0, 10, r)).reply().devices();
        assertEquals(List.of("desk", "phone"), active.devices().stream().map(DeviceRecord::hostname).toList());

        // The address space goes on after the last address handed out (d4's, deleted: never handed out again).
        var next = org.<Organization.Reply>runCommand(r -> new Organization.Register("k1", "secret-hash-1",
                "org-legacy.d5", "pk5", "new", Map.of(), List.of(), "t5", "s5", 5000, r));
        assertEquals("10.77.0.5", next.reply().device().overlayIps().get(0));
    }

    @Test
    void anOrganizationsOldEventsReplay() {
        int count = legacy.get("organizationEvents").size();
        var org = recovered(organization(), ORGANIZATION, events("organizationEvents", count - 1), null, 0);
        assertInstanceOf(OrganizationState.Active.class, org.getState());
        assertActiveOrganization(org);

        recovered(org, ORGANIZATION, events("organizationEvents", count), null, 0);
        assertEquals(new OrganizationState.Deleted("org-legacy", 13), org.getState());
        assertEquals(404, org.<Organization.Reply>runCommand(Organization.Get::new).reply().status());
    }

    @Test
    void anOrganizationsOldSnapshotsLoad() {
        int count = legacy.get("organizationEvents").size();
        var org = recovered(organization(), ORGANIZATION, List.of(),
                read(legacy.get("organizationSnapshotActive")), count - 1);
        assertInstanceOf(OrganizationState.Active.class, org.getState());
        assertActiveOrganization(org);

        recovered(org, ORGANIZATION, List.of(), read(legacy.get("organizationSnapshotDeleted")), count);
        assertEquals(new OrganizationState.Deleted("org-legacy", 13), org.getState());
        assertEquals(404, org.<Organization.Reply>runCommand(Organization.Get::new).reply().status());
    }

    private static DeviceRecord get(EventSourcedBehaviorTestKit<Device.Command, Device.Event, DeviceState> device) {
        return device.<Device.Reply>runCommand(Device.Get::new).reply().device();
    }

    @Test
    void aDevicesOldEventsReplay() {
        var device = recovered(device(), DEVICE, events("deviceEvents", 6), null, 0);
        assertInstanceOf(DeviceState.Active.class, device.getState());
        DeviceRecord record = get(device);
        assertEquals("desk", record.hostname());
        assertEquals(DeviceRecord.ACTIVE, record.status());
        assertEquals("token-1b", record.tokenHash());
        assertEquals(70_000, record.lastSeenMillis(), "the Seen event");
        assertEquals(List.of(new Endpoint("203.0.113.7:41641", "stun")), record.endpoints());

        recovered(device, DEVICE, events("deviceEvents", 7), null, 0);
        assertInstanceOf(DeviceState.Revoked.class, device.getState());
        assertEquals(403, device.<Device.Reply>runCommand(r -> new Device.Report(List.of(), null, 80_000, r))
                .reply().status());

        recovered(device, DEVICE, events("deviceEvents", 8), null, 0);
        assertInstanceOf(DeviceState.Deleted.class, device.getState());
        assertNull(device.<Device.Reply>runCommand(Device.Get::new).reply().device());
        assertEquals(410, device.<Device.Reply>runCommand(r -> new Device.Register(record, r)).reply().status());
    }

    @Test
    void aDevicesOldSnapshotsLoad() {
        var device = recovered(device(), DEVICE, List.of(), read(legacy.get("deviceSnapshotActive")), 6);
        assertInstanceOf(DeviceState.Active.class, device.getState());
        DeviceRecord record = get(device);
        assertEquals("desk", record.hostname());
        assertEquals("serial-1b", record.certificateSerial());
        assertEquals(70_000, record.lastSeenMillis());

        recovered(device, DEVICE, List.of(), read(legacy.get("deviceSnapshotRevoked")), 7);
        assertInstanceOf(DeviceState.Revoked.class, device.getState());
        assertEquals(DeviceRecord.REVOKED, get(device).status());

        recovered(device, DEVICE, List.of(), read(legacy.get("deviceSnapshotDeleted")), 8);
        assertInstanceOf(DeviceState.Deleted.class, device.getState());
        assertEquals(404, device.<Device.Reply>runCommand(Device.Get::new).reply().status());
    }

    private static DeviceRecord legacyDevice(String id, String hostname, int host) {
        return new DeviceRecord(id, "pk-" + id, hostname, List.of("10.77.0." + host, "fd00::" + host), "t-" + id,
                List.of(), Map.of(), Map.of(), DeviceRecord.ACTIVE, 1000, 1000, "s-" + id, "k1");
    }

    /**
     * Groups written when {@code appliesTo} could name hostnames and rules could name groups bare: on recovery
     * each hostname becomes the ids of the devices that had it when the group was written (two, as hostnames were not
     * unique then; none, and the entry goes), a bare group name becomes {@code group:NAME}, and each rewrite is
     * logged as a warning. Renaming a device afterwards changes nothing, and a device registering later under that
     * hostname joins nothing. The same from a snapshot that holds such groups.
     */
    @Test
    void groupsThatNamedHostnamesAreMigratedToTheIdsThoseHostnamesHad() {
        String web1 = "org-legacy.w1";
        String web2 = "org-legacy.w2";
        String db = "org-legacy.db";
        List<Object> events = new ArrayList<>(List.of(
                new Organization.Created("org-legacy", "acme", "10.77.0.0/16", "api-hash", 1000),
                new Organization.KeyCreated("org-legacy", new Organization.RegistrationKey("k1", "secret-hash-1",
                        true, 1100, 0, false, 0, false)),
                new Organization.DeviceRegistered("org-legacy", "k1", legacyDevice(web1, "web", 1)),
                new Organization.DeviceRegistered("org-legacy", "k1", legacyDevice(web2, "web", 2)),
                new Organization.DeviceRegistered("org-legacy", "k1", legacyDevice(db, "db", 3)),
                new Organization.SecurityGroupSaved("org-legacy", new Organization.SecurityGroup("web",
                        List.of("web", "ghost"), List.of(new Organization.Rule("tcp", "443", List.of("0.0.0.0/0"))))),
                new Organization.SecurityGroupSaved("org-legacy", new Organization.SecurityGroup("db",
                        List.of("db"), List.of(new Organization.Rule("tcp", "5432", List.of("web", "10.0.0.0/8"))))),
                new Organization.DevicePatched("org-legacy", web1, "renamed", Map.of())));
        // Written as earlier releases wrote them: through the journal's serializer, without tags.
        Serialization serialization = SerializationExtension.get(TEST_KIT.system());
        List<Object> stored = new ArrayList<>();
        for (Object event : events) {
            byte[] bytes = serialization.serialize(event).get();
            var serializer = serialization.findSerializerFor(event);
            stored.add(serialization.deserialize(bytes, serializer.identifier(),
                    org.apache.pekko.serialization.Serializers.manifestFor(serializer, event)).get());
        }

        // The kit's first entity recovers as soon as it is made; once its recovery is over, the warnings counted
        // below are those of the one recovery from the legacy events (else it may read them too, and warn twice).
        var kit = organization();
        kit.getState();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(LegacyGroups.class);
        var appender = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        appender.start();
        logger.addAppender(appender);
        try {
            var org = recovered(kit, ORGANIZATION, stored, null, 0);
            assertMigrated(org, web1, web2, db);
            List<String> warnings = appender.list.stream()
                    .filter(event -> event.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
            assertEquals(4, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("hostname web") && warnings.get(0).contains(web1)
                    && warnings.get(0).contains(web2), warnings.get(0));
            assertTrue(warnings.get(1).contains("hostname ghost") && warnings.get(1).contains("no device"),
                    warnings.get(1));
            assertTrue(warnings.get(2).contains("hostname db") && warnings.get(2).contains(db), warnings.get(2));
            assertTrue(warnings.get(3).contains("group:web"), warnings.get(3));

            // A device that calls itself "web" now is "web-2" (web is w2's), and joins no group by it.
            var late = org.<Organization.Reply>runCommand(r -> new Organization.Register("k1", "secret-hash-1",
                    "org-legacy.late", "pk-late", "web", Map.of(), List.of(), "t", "s", 5000, r)).reply().device();
            assertEquals("web-2", late.hostname());
            assertEquals(SecurityPolicy.OPEN, org.<Organization.Reply>runCommand(r -> new Organization.GetPeerMap(0,
                    late.id(), r)).reply().peerMap().policy());

            // The same groups in a snapshot of the state: migrated as the snapshot loads.
            OrganizationState.Active state = (OrganizationState.Active) org.getState();
            Map<String, Organization.SecurityGroup> legacyGroups = Map.of(
                    "web", new Organization.SecurityGroup("web", List.of("web", "ghost"),
                            List.of(new Organization.Rule("tcp", "443", List.of("0.0.0.0/0")))),
                    "db", new Organization.SecurityGroup("db", List.of("db"),
                            List.of(new Organization.Rule("tcp", "5432", List.of("web", "10.0.0.0/8")))));
            var devices = new java.util.HashMap<>(state.devices());
            devices.remove(late.id());
            devices.put(web1, devices.get(web1).withNames("web", Map.of()));
            OrganizationState.Active snapshot = new OrganizationState.Active(state.id(), state.name(),
                    state.ipv4Cidr(), state.apiTokenHash(), state.createdMillis(), state.nextHost(), state.keys(),
                    devices, state.revision(), state.changes(), legacyGroups, null);
            recovered(org, ORGANIZATION, List.of(), snapshot, 8);
            assertMigrated(org, web1, web2, db);
        } finally {
            logger.detachAppender(appender);
        }
    }

    private static void assertMigrated(
            EventSourcedBehaviorTestKit<Organization.Command, Organization.Event, OrganizationState> org,
            String web1, String web2, String db) {
        Map<String, Organization.SecurityGroup> groups = org.<Organization.Reply>runCommand(Organization.Get::new)
                .reply().summary().securityGroups();
        assertEquals(List.of(web1, web2), groups.get("web").appliesTo(), "the ids hostname web had; ghost had none");
        assertEquals(List.of(db), groups.get("db").appliesTo());
        assertEquals(List.of("group:web", "10.0.0.0/8"), groups.get("db").rules().get(0).peers());
        SecurityPolicy dbPolicy = org.<Organization.Reply>runCommand(r -> new Organization.GetPeerMap(0, db, r))
                .reply().peerMap().policy();
        assertEquals(List.of("10.0.0.0/8", "10.77.0.1/32", "10.77.0.2/32", "fd00::1/128", "fd00::2/128"),
                dbPolicy.rules().get(0).peers(), "db lets in the web servers it let in before");
    }
}
