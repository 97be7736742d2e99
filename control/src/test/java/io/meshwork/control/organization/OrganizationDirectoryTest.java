package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The organization index; the test kit round-trips every command, event and state through CBOR. */
class OrganizationDirectoryTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.parseString(
                    "pekko.actor.provider = local\n"
                            + "pekko.actor.serialization-bindings {\"io.meshwork.control.CborSerializable\" = jackson-cbor}"))
                    .withFallback(ConfigFactory.load()));

    private EventSourcedBehaviorTestKit<OrganizationDirectory.Command, OrganizationDirectory.Event,
            OrganizationDirectory.State> directory;

    @BeforeEach
    void fresh() {
        directory = EventSourcedBehaviorTestKit.create(TEST_KIT.system(), OrganizationDirectory.create());
    }

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private static OrganizationDirectory.Entry entry(String id, String name) {
        return new OrganizationDirectory.Entry(id, name, "100.64.0.0/10", 1000);
    }

    private OrganizationDirectory.Page page(String nameContains, int offset, int limit) {
        return directory.<OrganizationDirectory.Page>runCommand(replyTo ->
                new OrganizationDirectory.GetPage(nameContains, offset, limit, replyTo)).reply();
    }

    @Test
    void addingIsIdempotentAndRemovingUnlists() {
        var added = directory.<OrganizationDirectory.Reply>runCommand(r -> new OrganizationDirectory.Add(
                entry("o1", "acme"), r));
        assertTrue(added.reply().changed());
        assertEquals(new OrganizationDirectory.OrganizationListed(entry("o1", "acme")), added.event());

        var again = directory.<OrganizationDirectory.Reply>runCommand(r -> new OrganizationDirectory.Add(
                entry("o1", "acme"), r));
        assertFalse(again.reply().changed());
        assertTrue(again.hasNoEvents(), "a retried listing persists nothing");

        var removed = directory.<OrganizationDirectory.Reply>runCommand(r -> new OrganizationDirectory.Remove("o1", r));
        assertTrue(removed.reply().changed());
        assertEquals(new OrganizationDirectory.OrganizationUnlisted("o1"), removed.event());
        var removedAgain = directory.<OrganizationDirectory.Reply>runCommand(r ->
                new OrganizationDirectory.Remove("o1", r));
        assertFalse(removedAgain.reply().changed());
        assertTrue(removedAgain.hasNoEvents());
        assertEquals(0, page(null, 0, 10).total());
    }

    @Test
    void pagesAreOrderedByNameThenIdAndFiltered() {
        for (String[] org : new String[][] {{"o3", "beta"}, {"o1", "alpha"}, {"o2", "beta"}, {"o4", "gamma"}}) {
            directory.<OrganizationDirectory.Reply>runCommand(r -> new OrganizationDirectory.Add(entry(org[0], org[1]), r));
        }
        OrganizationDirectory.Page all = page(null, 0, 10);
        assertEquals(4, all.total());
        assertEquals(List.of("o1", "o2", "o3", "o4"), all.organizations().stream().map(e -> e.id()).toList());
        OrganizationDirectory.Page second = page(null, 1, 2);
        assertEquals(4, second.total());
        assertEquals(List.of("o2", "o3"), second.organizations().stream().map(e -> e.id()).toList());
        OrganizationDirectory.Page betas = page("bet", 0, 10);
        assertEquals(2, betas.total());
        assertEquals(0, page(null, 9, 10).organizations().size(), "an offset past the end is an empty page");
    }

    @Test
    void survivesARestartFromEventsAndSnapshots() {
        for (int i = 0; i < OrganizationDirectory.SNAPSHOT_EVERY + 5; i++) {
            String id = "o" + i;
            directory.<OrganizationDirectory.Reply>runCommand(r -> new OrganizationDirectory.Add(entry(id, "n" + id), r));
        }
        directory.<OrganizationDirectory.Reply>runCommand(r -> new OrganizationDirectory.Remove("o7", r));
        OrganizationDirectory.State before = directory.getState();
        directory.restart();
        assertEquals(before, directory.getState());
        assertEquals(OrganizationDirectory.SNAPSHOT_EVERY + 4, page(null, 0, 1000).total());
    }
}
