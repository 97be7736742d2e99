package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.meshwork.protocol.api.DnsRecord;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The organization's DNS settings entity: domain, records with names relative to it, the rules that need its
 * state, recovery, and the change published to the streams. Every command, event and state goes through CBOR
 * serialization in the test kit.
 */
class DnsSettingsTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.parseString(
                    "pekko.actor.provider = local\n"
                            + "pekko.actor.serialization-bindings {\"io.meshwork.control.CborSerializable\" = jackson-cbor}"))
                    .withFallback(ConfigFactory.load()));

    private EventSourcedBehaviorTestKit<DnsSettings.Command, DnsSettings.Event, DnsSettings.Settings> settings;
    private static int serial;

    @BeforeEach
    void fresh() {
        settings = EventSourcedBehaviorTestKit.create(TEST_KIT.system(), DnsSettings.create("o-dns-" + serial++));
    }

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private DnsSettings.Reply add(String id, String name, String type, String value) {
        return settings.<DnsSettings.Reply>runCommand(replyTo -> new DnsSettings.AddRecord(
                new DnsRecord(id, name, type, value, 0), replyTo)).reply();
    }

    @Test
    void theDefaultDomainThenAnotherWithTheRecordsUnderIt() {
        DnsSettings.Reply initial = settings.<DnsSettings.Reply>runCommand(DnsSettings.Get::new).reply();
        assertEquals("meshwork.internal", initial.config().domain());
        assertEquals(0, initial.version());
        assertEquals(200, add("r1", "www", "CNAME", "db-1").status());
        assertEquals(200, add("r2", "@", "TXT", "hello").status());
        var changed = settings.<DnsSettings.Reply>runCommand(replyTo -> new DnsSettings.SetDomain("corp.internal",
                replyTo));
        assertEquals(List.of("www.corp.internal", "corp.internal"),
                changed.reply().config().records().stream().map(DnsRecord::name).toList());
        assertEquals(3, changed.reply().version());
        var same = settings.<DnsSettings.Reply>runCommand(replyTo -> new DnsSettings.SetDomain("corp.internal",
                replyTo));
        assertTrue(same.hasNoEvents(), "the same domain again writes nothing");
    }

    @Test
    void aCnameStandsAloneAndARecordIsNotAddedTwice() {
        assertEquals(200, add("r1", "api", "A", "192.0.2.1").status());
        assertEquals(409, add("r2", "api", "CNAME", "db-1").status());
        assertEquals(200, add("r3", "www", "CNAME", "db-1").status());
        assertEquals(409, add("r4", "www", "A", "192.0.2.2").status());
        assertEquals(409, add("r5", "api", "A", "192.0.2.1").status());
        assertEquals(200, add("r6", "api", "A", "192.0.2.3").status());
    }

    @Test
    void recordsAreDeletedByIdOrByNameAndType() {
        add("r1", "api", "A", "192.0.2.1");
        add("r2", "api", "AAAA", "2001:db8::1");
        add("r3", "srv", "TXT", "x");
        assertEquals(404, settings.<DnsSettings.Reply>runCommand(replyTo -> new DnsSettings.DeleteRecords("r9", null,
                null, replyTo)).reply().status());
        assertEquals(List.of("r2", "r3"), settings.<DnsSettings.Reply>runCommand(replyTo ->
                new DnsSettings.DeleteRecords(null, "api", "A", replyTo)).reply().config().records().stream()
                .map(DnsRecord::id).toList());
        assertEquals(List.of("r2"), settings.<DnsSettings.Reply>runCommand(replyTo ->
                new DnsSettings.DeleteRecords("r3", null, null, replyTo)).reply().config().records().stream()
                .map(DnsRecord::id).toList());
    }

    @Test
    void everythingComesBackAfterARestart() {
        add("r1", "api", "A", "192.0.2.1");
        settings.<DnsSettings.Reply>runCommand(replyTo -> new DnsSettings.SetDomain("lab.example", replyTo));
        settings.restart();
        DnsSettings.Reply after = settings.<DnsSettings.Reply>runCommand(DnsSettings.Get::new).reply();
        assertEquals("lab.example", after.config().domain());
        assertEquals("api.lab.example", after.config().records().get(0).name());
        assertEquals(2, after.version());
    }

    @Test
    void aChangeIsPublishedWholeOnTheOrganizationsTopic() {
        EventSourcedBehaviorTestKit<DnsSettings.Command, DnsSettings.Event, DnsSettings.Settings> published =
                EventSourcedBehaviorTestKit.create(TEST_KIT.system(), DnsSettings.create("o-published"));
        TestProbe<DnsSettings.Changed> probe = TEST_KIT.createTestProbe();
        DnsSettings.topic(TEST_KIT.system(), "o-published").tell(Topic.subscribe(probe.getRef()));
        // The subscription is registered through the receptionist: publish until it is heard.
        DnsSettings.Changed changed = null;
        for (int i = 0; i < 50 && changed == null; i++) {
            published.<DnsSettings.Reply>runCommand(replyTo -> new DnsSettings.AddRecord(
                    new DnsRecord("r" + System.nanoTime(), "h" + System.nanoTime(), "A", "192.0.2.9", 0), replyTo));
            changed = probe.expectMessageClass(DnsSettings.Changed.class, java.time.Duration.ofSeconds(3));
        }
        assertEquals("meshwork.internal", changed.config().domain());
        assertTrue(changed.version() >= 1);
    }
}
