package io.meshwork.control.organization;

import io.meshwork.control.Answers;
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
import org.apache.pekko.actor.typed.javadsl.AskPattern;
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
 *
 * <p>The queues are bounded ({@link Bounds}): commands waiting or being written for one organization, and for all
 * of them together. A command beyond either bound is answered at once with a 503 (retry), rather than held in
 * memory while the organization cannot keep up; the routes answer it with {@code Retry-After}.
 */
public final class OrganizationWriter {

    /** Commands per journal write at most: a batch of this many stays well under the cluster's frame size. */
    static final int MAX_BATCH = 256;

    /**
     * How many commands may wait or be in flight, per organization and in all ({@code
     * meshwork.control.limits.writer-queue-per-organization} and {@code writer-queue-total}). Within the ask timeout
     * an organization writes some thousands of commands; more than that queued would only be answered after their
     * askers gave up.
     */
    public record Bounds(int perOrganization, int total) {

        public static final Bounds DEFAULTS = new Bounds(4096, 16_384);

        public Bounds {
            if (perOrganization < 1 || total < 1) {
                throw new IllegalArgumentException("writer queue bounds must be at least 1");
            }
        }

        /** The bounds configured under {@code meshwork.control.limits}, else {@link #DEFAULTS}. */
        public static Bounds from(com.typesafe.config.Config config) {
            String path = "meshwork.control.limits";
            if (!config.hasPath(path + ".writer-queue-per-organization")) {
                return DEFAULTS;
            }
            return new Bounds(config.getInt(path + ".writer-queue-per-organization"),
                    config.getInt(path + ".writer-queue-total"));
        }
    }

    /** The answer to a command beyond the bounds. */
    static final String BUSY = "the organization has too many registrations and reports queued; retry";

    public sealed interface Message {}

    /** Hand {@code command} to the organization {@code organizationId}, in a batch. */
    public record Submit(String organizationId, Organization.Batchable command) implements Message {}

    private record Written(String organizationId) implements Message {}

    /** A writer for the organizations sharded in {@code sharding}, bounded as the system's configuration says. */
    public static Behavior<Message> create(ClusterSharding sharding, Duration timeout) {
        return Behaviors.setup(context -> new OrganizationWriter(context,
                organizationId -> sharding.entityRefFor(Organization.ENTITY_KEY, organizationId), timeout,
                Bounds.from(context.getSystem().settings().config())).behavior());
    }

    /** A writer for the organizations {@code organizations} resolves, with the default bounds. */
    public static Behavior<Message> create(Function<String, RecipientRef<Organization.Command>> organizations,
            Duration timeout) {
        return create(organizations, timeout, Bounds.DEFAULTS);
    }

    /** A writer for the organizations {@code organizations} resolves. */
    public static Behavior<Message> create(Function<String, RecipientRef<Organization.Command>> organizations,
            Duration timeout, Bounds bounds) {
        return Behaviors.setup(context -> new OrganizationWriter(context, organizations, timeout, bounds).behavior());
    }

    /** An organization's commands waiting, and how many of its commands the batch in flight holds. */
    private static final class Pending {
        final ArrayDeque<Organization.Batchable> queue = new ArrayDeque<>();
        int inFlight;

        int size() {
            return queue.size() + inFlight;
        }
    }

    private final ActorContext<Message> context;
    private final Function<String, RecipientRef<Organization.Command>> organizations;
    private final Duration timeout;
    private final Bounds bounds;
    private final Map<String, Pending> pending = new HashMap<>();
    /** Commands waiting or in flight, for every organization. */
    private int total;

    private OrganizationWriter(ActorContext<Message> context,
            Function<String, RecipientRef<Organization.Command>> organizations, Duration timeout, Bounds bounds) {
        this.context = context;
        this.organizations = organizations;
        this.timeout = timeout;
        this.bounds = bounds;
    }

    private Behavior<Message> behavior() {
        return Behaviors.receive(Message.class)
                .onMessage(Submit.class, submit -> {
                    Pending organization = pending.get(submit.organizationId());
                    if (total >= bounds.total()
                            || organization != null && organization.size() >= bounds.perOrganization()) {
                        submit.command().replyTo().tell(Organization.Reply.error(503, BUSY));
                        return Behaviors.same();
                    }
                    total++;
                    if (organization == null) {
                        // Nothing in flight for this organization: the command leaves now.
                        organization = new Pending();
                        pending.put(submit.organizationId(), organization);
                        send(submit.organizationId(), organization, List.of(submit.command()));
                    } else {
                        organization.queue.add(submit.command());
                    }
                    return Behaviors.same();
                })
                .onMessage(Written.class, written -> {
                    Pending organization = pending.get(written.organizationId());
                    total -= organization.inFlight;
                    organization.inFlight = 0;
                    if (organization.queue.isEmpty()) {
                        pending.remove(written.organizationId());
                    } else {
                        List<Organization.Batchable> batch = new ArrayList<>(Math.min(organization.queue.size(),
                                MAX_BATCH));
                        while (!organization.queue.isEmpty() && batch.size() < MAX_BATCH) {
                            batch.add(organization.queue.poll());
                        }
                        send(written.organizationId(), organization, batch);
                    }
                    return Behaviors.same();
                })
                .build();
    }

    private void send(String organizationId, Pending organization, List<Organization.Batchable> batch) {
        organization.inFlight = batch.size();
        // Not context.ask: given an ask's stage, it hands the answer on through the common pool (see Answers).
        context.pipeToSelf(Answers.onDispatcher(AskPattern.<Organization.Command, Organization.BatchDone>ask(
                        organizations.apply(organizationId),
                        replyTo -> new Organization.Batch(List.copyOf(batch), replyTo), timeout,
                        context.getSystem().scheduler()), context.getExecutionContext()),
                (done, failure) -> new Written(organizationId));
    }
}
