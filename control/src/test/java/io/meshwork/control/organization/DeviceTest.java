package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.meshwork.control.organization.Organization.DeviceRecord;
import io.meshwork.protocol.api.Endpoint;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DeviceTest {

    private static final ActorTestKit TEST_KIT =
            ActorTestKit.create(
                    EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.parseString(
                            "pekko.actor.provider = local\n"
                                    + "pekko.actor.serialization-bindings {\"io.meshwork.control.CborSerializable\" = jackson-cbor}"))
                            .withFallback(ConfigFactory.load()));

    private static final List<Endpoint> STUN = List.of(new Endpoint("198.51.100.7:41641", "stun"));
    private static final Map<String, Object> NAT = Map.of("mapping", "endpoint-independent");

    private EventSourcedBehaviorTestKit<Device.Command, Device.Event, DeviceState> device;

    @BeforeEach
    void fresh() {
        device = EventSourcedBehaviorTestKit.create(TEST_KIT.system(), Device.create("org-1.d1"));
    }

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private static DeviceRecord record(String publicKey) {
        return new DeviceRecord("org-1.d1", publicKey, "laptop", List.of("100.64.0.1", "fd00::1"), "token-hash",
                List.of(), Map.of(), Map.of("team", "ops"), DeviceRecord.ACTIVE, 1_000, 1_000, "serial-1", "k1");
    }

    private Device.Reply register() {
        return device.<Device.Reply>runCommand(replyTo -> new Device.Register(record("pk1"), replyTo)).reply();
    }

    private Device.Reply report(List<Endpoint> endpoints, Map<String, Object> nat, long now) {
        return device.<Device.Reply>runCommand(replyTo -> new Device.Report(endpoints, nat, now, replyTo)).reply();
    }

    @Test
    void answers404UntilRegisteredAndRegistrationIsIdempotentForTheSameKey() {
        assertEquals(404, device.<Device.Reply>runCommand(Device.Get::new).reply().status());
        assertTrue(device.runCommand(new Device.Prepare()).hasNoEvents(), "starting an entity writes nothing");
        assertEquals(200, register().status());
        var retry = device.<Device.Reply>runCommand(replyTo -> new Device.Register(record("pk1"), replyTo));
        assertEquals(200, retry.reply().status());
        assertTrue(retry.hasNoEvents());
        var other = device.<Device.Reply>runCommand(replyTo -> new Device.Register(record("pk2"), replyTo));
        assertEquals(409, other.reply().status());
        assertEquals("pk1", device.<Device.Reply>runCommand(Device.Get::new).reply().device().publicKey());
    }

    @Test
    void aChangedReportIsWrittenAndMustReachTheOrganizationAnUnchangedOneNeitherOnceItHasIt() {
        register();
        var changed = device.<Device.Reply>runCommand(replyTo -> new Device.Report(STUN, NAT, 2_000, replyTo));
        assertTrue(changed.reply().tellOrganization());
        assertEquals(List.of(Device.Registered.class, Device.EndpointsReported.class),
                changed.events().stream().map(Object::getClass).toList(), "the first write carries the record");
        assertEquals(STUN, changed.reply().device().endpoints());

        // Until the organization is known to have them, the same endpoints are still to be told.
        assertTrue(report(STUN, null, 3_000).tellOrganization());
        device.runCommand(new Device.OrganizationUpdated(STUN, NAT));

        var same = device.<Device.Reply>runCommand(replyTo -> new Device.Report(STUN, null, 4_000, replyTo));
        assertFalse(same.reply().tellOrganization());
        assertTrue(same.hasNoEvents());
        assertEquals(4_000, same.reply().device().lastSeenMillis());
        assertEquals(NAT, same.reply().device().nat());
    }

    @Test
    void aNewHomeRelayIsWrittenAndToldTheSameOneIsNotAndARestartKeepsIt() {
        register();
        report(STUN, NAT, 2_000);
        device.runCommand(new Device.OrganizationUpdated(STUN, NAT));
        var homed = device.<Device.Reply>runCommand(replyTo -> new Device.Report(STUN, null, 3_000, replyTo,
                "relay-eu"));
        assertTrue(homed.reply().tellOrganization());
        assertEquals(List.of(Device.EndpointsReported.class),
                homed.events().stream().map(Object::getClass).toList());
        assertEquals("relay-eu", homed.reply().device().homeRelay());
        device.runCommand(new Device.OrganizationUpdated(STUN, NAT, "relay-eu"));

        var same = device.<Device.Reply>runCommand(replyTo -> new Device.Report(STUN, null, 4_000, replyTo,
                "relay-eu"));
        assertTrue(same.hasNoEvents(), "the same home relay again writes nothing");
        assertFalse(same.reply().tellOrganization());
        var observed = device.<Device.Reply>runCommand(replyTo -> new Device.Observe(
                new Endpoint("198.51.100.9:41641", "relay"), 5_000, replyTo));
        assertEquals("relay-eu", observed.reply().device().homeRelay(), "a relay's observation keeps it");

        device.restart();
        assertEquals("relay-eu", device.<Device.Reply>runCommand(Device.Get::new).reply().device().homeRelay());
    }

    @Test
    void registrationWritesNothingAndAnEntityWithNoJournalIsTakenOnAgainAfterARestart() {
        var registered = device.<Device.Reply>runCommand(replyTo -> new Device.Register(record("pk1"), replyTo));
        assertEquals(200, registered.reply().status());
        assertTrue(registered.hasNoEvents(), "the organization's journal already has the device");
        assertEquals("laptop", device.<Device.Reply>runCommand(Device.Get::new).reply().device().hostname());
        assertTrue(report(List.of(), Map.of(), 1_500).tellOrganization(), "an unchanged report writes nothing");

        device.restart();
        assertEquals(404, device.<Device.Reply>runCommand(Device.Get::new).reply().status(),
                "nothing written: control takes it on from the organization again");
        assertEquals(200, register().status());
        report(STUN, NAT, 2_000);
        device.restart();
        Device.Reply kept = device.<Device.Reply>runCommand(Device.Get::new).reply();
        assertEquals(STUN, kept.device().endpoints(), "once changed, the journal has the device and the change");
        assertEquals("serial-1", kept.device().certificateSerial());

        device.restart();
        var revoked = device.<Device.Reply>runCommand(Device.Revoke::new);
        assertEquals(List.of(Device.Revoked.class), revoked.events().stream().map(Object::getClass).toList(),
                "a device the journal has is not written again");
    }

    @Test
    void revokingADeviceNeverWrittenWritesItsRecordWithTheRevocation() {
        register();
        var revoked = device.<Device.Reply>runCommand(Device.Revoke::new);
        assertEquals(List.of(Device.Registered.class, Device.Revoked.class),
                revoked.events().stream().map(Object::getClass).toList());
        device.restart();
        assertEquals("revoked", device.<Device.Reply>runCommand(Device.Get::new).reply().device().status());
        assertEquals(409, device.<Device.Reply>runCommand(replyTo -> new Device.Register(record("pk2"), replyTo))
                .reply().status());
    }

    @Test
    void lastSeenIsWrittenAtMostOncePerInterval() {
        register();
        report(STUN, NAT, 2_000);
        device.runCommand(new Device.OrganizationUpdated(STUN, NAT));
        long interval = Device.SEEN_WRITE_INTERVAL.toMillis();
        var quiet = device.<Device.Reply>runCommand(replyTo -> new Device.Report(STUN, null, 2_000 + interval - 1,
                replyTo));
        assertTrue(quiet.hasNoEvents());
        var written = device.<Device.Reply>runCommand(replyTo -> new Device.Report(STUN, null, 2_000 + interval,
                replyTo));
        assertEquals(new Device.Seen(2_000 + interval), written.event());
        assertFalse(written.reply().tellOrganization());
    }

    @Test
    void afterARestartTheOrganizationIsToldAgainOnceAndTheStateSurvives() {
        register();
        report(STUN, NAT, 2_000);
        device.runCommand(new Device.OrganizationUpdated(STUN, NAT));
        device.restart();
        Device.Reply after = report(STUN, null, 3_000);
        assertTrue(after.tellOrganization(), "a restarted entity does not know what the organization has");
        assertEquals(STUN, after.device().endpoints());
        assertEquals(List.of("100.64.0.1", "fd00::1"), after.device().overlayIps());
    }

    @Test
    void aRelayObservationReplacesTheEarlierOneFromARelayOnly() {
        register();
        report(STUN, NAT, 2_000);
        Endpoint first = new Endpoint("198.51.100.7:5000", "relay");
        Endpoint second = new Endpoint("198.51.100.7:6000", "relay");
        device.<Device.Reply>runCommand(replyTo -> new Device.Observe(first, 3_000, replyTo));
        Device.Reply moved = device.<Device.Reply>runCommand(replyTo -> new Device.Observe(second, 4_000, replyTo))
                .reply();
        assertEquals(List.of(STUN.get(0), second), moved.device().endpoints());
        assertTrue(moved.tellOrganization());
        device.runCommand(new Device.OrganizationUpdated(moved.device().endpoints(), moved.device().nat()));
        var again = device.<Device.Reply>runCommand(replyTo -> new Device.Observe(second, 5_000, replyTo));
        assertTrue(again.hasNoEvents());
        assertFalse(again.reply().tellOrganization());
    }

    @Test
    void patchRevokeAndDelete() {
        register();
        var patched = device.<Device.Reply>runCommand(replyTo -> new Device.Patch("desk", null, replyTo));
        assertEquals("desk", patched.reply().device().hostname());
        assertEquals(Map.of("team", "ops"), patched.reply().device().metadata());

        var revoked = device.<Device.Reply>runCommand(Device.Revoke::new);
        assertEquals(DeviceRecord.REVOKED, revoked.reply().device().status());
        assertEquals(403, report(STUN, NAT, 9_000).status());

        assertEquals(200, device.<Device.Reply>runCommand(Device.Delete::new).reply().status());
        assertEquals(404, device.<Device.Reply>runCommand(Device.Get::new).reply().status());
        var reRegister = device.<Device.Reply>runCommand(replyTo -> new Device.Register(record("pk1"), replyTo));
        assertEquals(410, reRegister.reply().status());
        device.restart();
        assertEquals(404, device.<Device.Reply>runCommand(Device.Get::new).reply().status());
    }

    @Test
    void aPendingDeviceKeepsItsReportsUntilApprovedThenTheOrganizationHearsThem() {
        DeviceRecord pending = record("pk1").withStatus(DeviceRecord.PENDING);
        assertEquals(200, device.<Device.Reply>runCommand(replyTo -> new Device.Register(pending, replyTo))
                .reply().status());
        var report = device.<Device.Reply>runCommand(replyTo -> new Device.Report(STUN, NAT, 2000, replyTo));
        assertEquals(200, report.reply().status());
        assertFalse(report.reply().tellOrganization(), "the organization has no use for a pending device's endpoints");
        assertEquals(STUN, report.reply().device().endpoints());

        var approved = device.<Device.Reply>runCommand(Device.Approve::new);
        assertEquals("active", approved.reply().device().status());
        assertTrue(device.<Device.Reply>runCommand(replyTo -> new Device.Report(STUN, NAT, 2001, replyTo))
                .reply().tellOrganization(), "after approval the unchanged endpoints go to the organization once");
        assertTrue(device.<Device.Reply>runCommand(Device.Approve::new).hasNoEvents());
        device.<Device.Reply>runCommand(Device.Revoke::new);
        assertEquals(409, device.<Device.Reply>runCommand(Device.Approve::new).reply().status());
    }

    private Device.Reply take(DeviceRecord record) {
        return device.<Device.Reply>runCommand(replyTo -> new Device.TakeCredentials(record, replyTo)).reply();
    }

    @Test
    void aRepeatedRegistrationsCredentialsAreTakenOnWhereverTheDeviceIs() {
        DeviceRecord renewed = record("pk1").withCredentials("token-2", "serial-2");
        // Neither written nor taken on: the organization's record is taken on as it is.
        var fresh = device.<Device.Reply>runCommand(replyTo -> new Device.TakeCredentials(renewed, replyTo));
        assertEquals("token-2", fresh.reply().device().tokenHash());
        assertTrue(fresh.hasNoEvents());
        assertEquals("serial-2", device.<Device.Reply>runCommand(Device.Get::new).reply().device().certificateSerial());

        // Taken on from the organization in memory only: replaced there, nothing written.
        device.restart();
        register();
        var adopted = device.<Device.Reply>runCommand(replyTo -> new Device.TakeCredentials(renewed, replyTo));
        assertTrue(adopted.hasNoEvents(), "the organization's journal has them");
        assertEquals("token-2", device.<Device.Reply>runCommand(Device.Get::new).reply().device().tokenHash());
        report(STUN, NAT, 2_000);
        device.restart();
        assertEquals("token-2", device.<Device.Reply>runCommand(Device.Get::new).reply().device().tokenHash(),
                "the first write carried the new credentials along");

        // Written: the change is written and survives a restart.
        DeviceRecord third = record("pk1").withCredentials("token-3", "serial-3");
        var written = device.<Device.Reply>runCommand(replyTo -> new Device.TakeCredentials(third, replyTo));
        assertEquals(List.of(new Device.CredentialsReplaced("token-3", "serial-3")), written.events());
        assertEquals(STUN, written.reply().device().endpoints(), "nothing else changes");
        assertTrue(device.<Device.Reply>runCommand(replyTo -> new Device.TakeCredentials(third, replyTo))
                .hasNoEvents(), "taking the same credentials again changes nothing");
        device.restart();
        assertEquals("token-3", device.<Device.Reply>runCommand(Device.Get::new).reply().device().tokenHash());

        assertEquals(409, take(record("pk2").withCredentials("x", "y")).status(), "another device's key");
        device.<Device.Reply>runCommand(Device.Revoke::new);
        assertEquals(403, take(record("pk1").withCredentials("token-4", "serial-4")).status());
        device.<Device.Reply>runCommand(Device.Delete::new);
        assertEquals(410, take(renewed).status());
    }

    @Test
    void everyMessageSurvivesSerialization() {
        SerializationTestKit serialization = new SerializationTestKit(TEST_KIT.system());
        TestProbe<Device.Reply> probe = TEST_KIT.createTestProbe();
        DeviceRecord record = record("pk1");
        List<Object> messages = List.of(
                new Device.Register(record, probe.ref()), new Device.Get(probe.ref()),
                new Device.Report(STUN, NAT, 1, probe.ref()), new Device.Observe(STUN.get(0), 1, probe.ref()),
                new Device.Patch("h", Map.of("a", "b"), probe.ref()), new Device.Revoke(probe.ref()),
                new Device.Delete(probe.ref()), new Device.OrganizationUpdated(STUN, NAT), new Device.Prepare(), new Device.Approve(probe.ref()),
                new Device.Approved(6), new Device.TakeCredentials(record, probe.ref()),
                new Device.CredentialsReplaced("token-2", "serial-2"),
                new Device.Reply(200, null, record, true), new Device.Registered(record),
                new Device.EndpointsReported(STUN, NAT, 2), new Device.Seen(3), new Device.Patched("h", Map.of()),
                new Device.Revoked(4), new Device.Deleted(5), DeviceState.of(record),
                DeviceState.of(record.withStatus(DeviceRecord.PENDING)), DeviceState.of(record.withStatus(DeviceRecord.REVOKED)),
                new DeviceState.Deleted(record));
        for (Object message : messages) {
            serialization.verifySerialization(message, true);
        }
    }
}
