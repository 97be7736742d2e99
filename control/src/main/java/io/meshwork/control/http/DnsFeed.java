package io.meshwork.control.http;

import io.meshwork.control.organization.DnsSettings;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The DNS settings this member's peer streams follow: per organization, one subscription to the changes its
 * {@link DnsSettings} entity publishes on the organization's topic (on any member) and one read of the current
 * settings, shared by every stream of that organization on the member. A stream gets the newest settings known
 * when it starts following (or as soon as the first read answers), then every newer version. Only newer versions
 * pass, so the first read and a change that crossed it arrive in order; settings are sent whole, so a follower
 * that is handed only the newest loses nothing. Before, each stream subscribed to the topic and asked the entity
 * itself: ten thousand streams reconnecting at once were ten thousand asks and subscribers.
 *
 * <p>The subscription ends, and the settings are forgotten, when the organization's last follower leaves. A read
 * that fails (the entity did not answer) is tried again when the next follower arrives; meanwhile the next change
 * brings the settings.
 */
final class DnsFeed {

    private final ActorSystem<?> system;
    private final Function<String, CompletionStage<DnsSettings.Reply>> read;
    /** Guarded by {@code this}. */
    private final Map<String, Organization> organizations = new HashMap<>();
    private final AtomicLong subscriptions = new AtomicLong();

    DnsFeed(ActorSystem<?> system, Function<String, CompletionStage<DnsSettings.Reply>> read) {
        this.system = system;
        this.read = read;
    }

    /** One organization's followers, its newest settings, and the actor subscribed to its topic. */
    private final class Organization {
        final String id;
        final Set<Consumer<DnsSettings.Changed>> followers = ConcurrentHashMap.newKeySet();
        volatile DnsSettings.Changed latest;
        /** Guarded by {@link DnsFeed}'s lock. */
        boolean reading;
        ActorRef<DnsSettings.Changed> subscriber;

        Organization(String id) {
            this.id = id;
        }

        /** Keeps {@code changed} if newer than what is known and hands it to every follower. */
        void heard(DnsSettings.Changed changed) {
            synchronized (this) {
                DnsSettings.Changed known = latest;
                if (known != null && known.version() >= changed.version()) {
                    return;
                }
                latest = changed;
            }
            for (Consumer<DnsSettings.Changed> follower : followers) {
                follower.accept(changed);
            }
        }
    }

    /**
     * Hands {@code follower} the settings of {@code organizationId} as they are (now, or once read) and then each
     * newer version, on the feed's threads (it must be cheap and not block), possibly a version it already had
     * (it keeps only newer ones). Returns what stops following, which the follower must call once.
     */
    Runnable follow(String organizationId, Consumer<DnsSettings.Changed> follower) {
        Organization organization;
        boolean readNow;
        synchronized (this) {
            organization = organizations.computeIfAbsent(organizationId, Organization::new);
            organization.followers.add(follower);
            if (organization.subscriber == null) {
                organization.subscriber = system.systemActorOf(subscriber(organization),
                        "dns-feed-" + subscriptions.incrementAndGet(), Props.empty());
            }
            readNow = organization.latest == null && !organization.reading;
            organization.reading |= readNow;
        }
        DnsSettings.Changed known = organization.latest;
        if (known != null) {
            follower.accept(known);
        }
        if (readNow) {
            readCurrent(organization);
        }
        return () -> leave(organization, follower);
    }

    /** How many streams of {@code organizationId} follow its settings (for tests). */
    synchronized int followers(String organizationId) {
        Organization organization = organizations.get(organizationId);
        return organization == null ? 0 : organization.followers.size();
    }

    private void leave(Organization organization, Consumer<DnsSettings.Changed> follower) {
        synchronized (this) {
            if (!organization.followers.remove(follower) || !organization.followers.isEmpty()) {
                return;
            }
            organizations.remove(organization.id, organization);
            // Stopping the subscriber unsubscribes it (the topic watches its subscribers).
            ActorRef<DnsSettings.Changed> subscriber = organization.subscriber;
            organization.subscriber = null;
            subscriber.tell(STOP);
        }
    }

    private void readCurrent(Organization organization) {
        CompletionStage<DnsSettings.Reply> answer;
        try {
            answer = read.apply(organization.id);
        } catch (RuntimeException e) {
            answer = java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        answer.whenCompleteAsync((reply, failure) -> {
            synchronized (this) {
                organization.reading = false;
            }
            // Not answering now: the next change (or the next follower's read) brings the settings.
            if (failure == null && reply.isOk()) {
                organization.heard(new DnsSettings.Changed(reply.config(), reply.version()));
            }
        }, system.executionContext());
    }

    /** Tells an organization's subscriber to stop. */
    private static final DnsSettings.Changed STOP = new DnsSettings.Changed(null, Long.MIN_VALUE);

    private Behavior<DnsSettings.Changed> subscriber(Organization organization) {
        return Behaviors.setup(context -> {
            DnsSettings.topic(system, organization.id).tell(Topic.subscribe(context.getSelf()));
            return Behaviors.receiveMessage(changed -> {
                if (changed.equals(STOP)) {
                    return Behaviors.stopped();
                }
                organization.heard(changed);
                return Behaviors.same();
            });
        });
    }
}
