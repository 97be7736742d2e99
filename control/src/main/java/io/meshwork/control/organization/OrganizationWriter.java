package io.meshwork.control.organization;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Group commit in front of the organizations, one per member: registrations and endpoint changes for an
 * organization go to it as one {@link Organization.Batch} at a time. While a batch is being written, what arrives
 * queues and leaves as the next batch, so an organization writes once per database round trip however many
 * devices are registering or moving, instead of once per device. With no load a command leaves at once, alone.
 *
 * <p>Each command is still answered on its own {@code replyTo} by the organization, in submission order; a batch
 * that is not acknowledged within the timeout (the organization is moving to another member, say) frees the queue
 * for the next one, and its commands' askers time out as they would without batching.
 */
public final class OrganizationWriter {

    /** Commands per journal write at most: a batch of this many stays well under the cluster's frame size. */
    static final int MAX_BATCH = 256;

    public sealed interface Message {}

    /** Hand {@code command} to the organization {@code organizationId}, in a batch. */
    public record Submit(String organizationId, Organization.Batchable command) implements Message {}

    private record Written(String organizationId) implements Message {}

    /** A writer for the organizations sharded in {@code sharding}. */
    public static Behavior<Message> create(ClusterSharding sharding, Duration timeout) {
        return create(organizationId -> sharding.entityRefFor(Organization.ENTITY_KEY, organizationId), timeout);
    }

    /** A writer for the organizations {@code organizations} resolves. */
    public static Behavior<Message> create(Function<String, RecipientRef<Organization.Command>> organizations,
            Duration timeout) {
        return Behaviors.setup(context -> new OrganizationWriter(context, organizations, timeout).behavior());
    }

    private final ActorContext<Message> context;
    private final Function<String, RecipientRef<Organization.Command>> organizations;
    private final Duration timeout;
    private final Map<String, ArrayDeque<Organization.Batchable>> queued = new HashMap<>();

    private OrganizationWriter(ActorContext<Message> context,
            Function<String, RecipientRef<Organization.Command>> organizations, Duration timeout) {
        this.context = context;
        this.organizations = organizations;
        this.timeout = timeout;
    }

    private Behavior<Message> behavior() {
        return Behaviors.receive(Message.class)
                .onMessage(Submit.class, submit -> {
                    ArrayDeque<Organization.Batchable> queue = queued.get(submit.organizationId());
                    if (queue == null) {
                        // Nothing in flight for this organization: the command leaves now.
                        queued.put(submit.organizationId(), new ArrayDeque<>());
                        send(submit.organizationId(), List.of(submit.command()));
                    } else {
                        queue.add(submit.command());
                    }
                    return Behaviors.same();
                })
                .onMessage(Written.class, written -> {
                    ArrayDeque<Organization.Batchable> queue = queued.get(written.organizationId());
                    if (queue.isEmpty()) {
                        queued.remove(written.organizationId());
                    } else {
                        List<Organization.Batchable> batch = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
                        while (!queue.isEmpty() && batch.size() < MAX_BATCH) {
                            batch.add(queue.poll());
                        }
                        send(written.organizationId(), batch);
                    }
                    return Behaviors.same();
                })
                .build();
    }

    private void send(String organizationId, List<Organization.Batchable> batch) {
        context.ask(Organization.BatchDone.class,
                organizations.apply(organizationId), timeout,
                replyTo -> new Organization.Batch(List.copyOf(batch), replyTo),
                (done, failure) -> new Written(organizationId));
    }
}
