package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.organization.Organization.DeviceRecord;
import io.meshwork.protocol.api.Endpoint;
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
}
