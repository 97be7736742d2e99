package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class OrganizationWriterTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create(EventSourcedBehaviorTestKit.config()
            .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
            .withFallback(ConfigFactory.load()));

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private record Release() {
    }

    /**
     * In front of the organization: holds what comes until released, so what is submitted meanwhile must queue
     * behind the first batch; then passes everything on, recording each batch's size.
     */
    private static Behavior<Object> gate(ActorRef<Organization.Command> organization, List<Integer> sizes) {
        return Behaviors.withStash(1000, stash -> Behaviors.receive(Object.class)
                .onMessage(Release.class, release -> stash.unstashAll(pass(organization, sizes)))
                .onMessage(Organization.Command.class, command -> {
                    stash.stash(command);
                    return Behaviors.same();
                })
                .build());
    }

    private static Behavior<Object> pass(ActorRef<Organization.Command> organization, List<Integer> sizes) {
        return Behaviors.receive(Organization.Command.class).onAnyMessage(command -> {
            if (command instanceof Organization.Batch batch) {
                sizes.add(batch.commands().size());
            }
            organization.tell(command);
            return Behaviors.same();
        }).build().unsafeCast();
    }

    @Test
    void whatArrivesWhileABatchIsWrittenLeavesAsTheNextBatchAndEveryCommandIsAnswered() {
        ActorRef<Organization.Command> organization = TEST_KIT.spawn(Organization.create("org-w", 1000));
        TestProbe<Organization.Reply> setup = TEST_KIT.createTestProbe();
        organization.tell(new Organization.Create("acme", "100.64.0.0/10", "api", 1, setup.getRef()));
        organization.tell(new Organization.CreateKey("k", "secret", true, 0, 1, setup.getRef()));
        setup.receiveSeveralMessages(2);

        List<Integer> sizes = java.util.Collections.synchronizedList(new ArrayList<>());
        ActorRef<Object> gate = TEST_KIT.spawn(gate(organization, sizes));
        ActorRef<OrganizationWriter.Message> writer = TEST_KIT.spawn(OrganizationWriter.create(
                id -> gate.narrow(), Duration.ofSeconds(10)));

        int devices = 200;
        TestProbe<Organization.Reply> replies = TEST_KIT.createTestProbe();
        for (int i = 0; i < devices; i++) {
            writer.tell(new OrganizationWriter.Submit("org-w", new Organization.Register("k", "secret", "d" + i,
                    "pk" + i, "h" + i, Map.of(), List.of(), "t", "s", 2, replies.getRef())));
        }
        // One more with the same public key as the first: decided after it, so the first device again (a repeat,
        // see docs/api.md), not a second one.
        writer.tell(new OrganizationWriter.Submit("org-w", new Organization.Register("k", "secret", "dup", "pk0",
                "h", Map.of(), List.of(), "t", "s", 2, replies.getRef())));
        gate.tell(new Release());

        Set<String> addresses = new HashSet<>();
        for (int i = 0; i < devices; i++) {
            Organization.Reply reply = replies.receiveMessage(Duration.ofSeconds(10));
            assertEquals(200, reply.status(), reply.error());
            assertEquals("d" + i, reply.device().id(), "answered in submission order");
            addresses.add(reply.device().overlayIps().get(0));
        }
        Organization.Reply again = replies.receiveMessage();
        assertEquals(Organization.Reply.REPEAT, again.status());
        assertEquals("d0", again.device().id());
        assertEquals(devices, addresses.size(), "no address handed out twice");
        assertEquals(List.of(1, devices), List.copyOf(sizes),
                "the first command leaves alone; the rest, queued behind it, leave as one batch");
    }

    @Test
    void beyondItsBoundsAWriterAnswers503AtOnceInsteadOfQueueing() {
        TestProbe<Organization.Command> held = TEST_KIT.createTestProbe();
        TestProbe<Organization.Command> other = TEST_KIT.createTestProbe();
        ActorRef<OrganizationWriter.Message> writer = TEST_KIT.spawn(OrganizationWriter.create(
                id -> id.equals("busy") ? held.getRef() : other.getRef(), Duration.ofSeconds(30),
                new OrganizationWriter.Bounds(3, 5)));
        TestProbe<Organization.Reply> replies = TEST_KIT.createTestProbe();
        for (int i = 0; i < 4; i++) {
            writer.tell(new OrganizationWriter.Submit("busy", register("d" + i, replies.getRef())));
        }
        // One in flight and two queued for "busy": the fourth is over its bound of three.
        Organization.Reply refused = replies.receiveMessage(Duration.ofSeconds(5));
        assertEquals(503, refused.status());
        assertEquals(OrganizationWriter.BUSY, refused.error());
        writer.tell(new OrganizationWriter.Submit("calm", register("c0", replies.getRef())));
        writer.tell(new OrganizationWriter.Submit("calm", register("c1", replies.getRef())));
        writer.tell(new OrganizationWriter.Submit("calm", register("c2", replies.getRef())));
        // Five waiting or in flight in all: the third for "calm" is over the total.
        assertEquals(503, replies.receiveMessage(Duration.ofSeconds(5)).status());
        replies.expectNoMessage(Duration.ofMillis(200));

        // Once the batch in flight is written, its commands no longer count.
        Organization.Batch first = (Organization.Batch) held.receiveMessage(Duration.ofSeconds(5));
        assertEquals(1, first.commands().size());
        first.replyTo().tell(new Organization.BatchDone(1));
        Organization.Batch second = (Organization.Batch) held.receiveMessage(Duration.ofSeconds(5));
        assertEquals(2, second.commands().size(), "the two queued leave together");
        writer.tell(new OrganizationWriter.Submit("calm", register("c3", replies.getRef())));
        replies.expectNoMessage(Duration.ofMillis(200));
        Organization.Batch calm = (Organization.Batch) other.receiveMessage();
        assertEquals(1, calm.commands().size());
        calm.replyTo().tell(new Organization.BatchDone(1));
        assertEquals(List.of("c1", "c3"), ((Organization.Batch) other.receiveMessage()).commands().stream()
                .map(Organization.Batchable::deviceId).toList(), "taken now that there is room: behind c1");
    }

    private static Organization.Register register(String deviceId, ActorRef<Organization.Reply> replyTo) {
        return new Organization.Register("k", "secret", deviceId, "pk-" + deviceId, "h", Map.of(), List.of(), "t",
                "s", 2, replyTo);
    }
}
