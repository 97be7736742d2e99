package io.meshwork.control.organization;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * Distributed pub-sub of organization revisions: an organization publishes its new revision after every change
 * to its peer map, and peer-map streams on any cluster member subscribe to hear about it at once. Topics of the
 * same name on different members find each other through the receptionist; this keeps one topic actor per
 * organization and member.
 */
public final class RevisionTopics {

    private static final Map<ActorSystem<?>, Map<String, ActorRef<Topic.Command<Long>>>> TOPICS =
            new ConcurrentHashMap<>();

    private RevisionTopics() {}

    public static ActorRef<Topic.Command<Long>> topic(ActorSystem<?> system, String organizationId) {
        return TOPICS.computeIfAbsent(system, s -> new ConcurrentHashMap<>()).computeIfAbsent(organizationId,
                id -> system.systemActorOf(Topic.create(Long.class, "revisions-" + id), "revisions-" + id,
                        Props.empty()));
    }

    /** Forgets the topics of a stopped system (tests start several in one JVM). */
    public static void forget(ActorSystem<?> system) {
        TOPICS.remove(system);
    }
}
