package io.meshwork.control.http;

import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.RevisionTopics;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.BroadcastHub;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * One peer-map feed per organization and control member, shared by every peer stream of that organization on
 * the member. The feed wakes on the organization's revisions (distributed pub-sub, plus a safety poll), asks the
 * organization once per coalescing window for what changed since the revision it last saw, and broadcasts that
 * delta to its streams. Without it each stream asked the organization itself, so one change cost the
 * organization one request and one delta computation per open stream.
 *
 * <p>Security policies differ per device, so a delta in which some policy may have changed carries the groups
 * and their member devices instead of one device's policy; each stream resolves its own device's policy from them
 * and sends it only when it differs from the one it last sent.
 *
 * <p>A delta carries the revision it starts from; a stream that missed one (it subscribed late, or its client
 * read too slowly and its buffer dropped deltas) sees the gap and asks the organization for its own delta. The
 * feed stops when its last stream ends.
 */
final class PeerMapFeeds {

    /** The changes after {@code fromRevision}, up to {@code peerMap.revision()}. */
    record Delta(long fromRevision, Organization.PeerMap peerMap) {}

    private record Feed(Source<Delta, NotUsed> deltas, UniqueKillSwitch stop, int streams) {}

    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final Duration coalesceWindow;
    private final Duration safetyPoll;
    private final Map<String, Feed> feeds = new HashMap<>();

    PeerMapFeeds(ActorSystem<?> system, Duration coalesceWindow, Duration safetyPoll) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.coalesceWindow = coalesceWindow;
        this.safetyPoll = safetyPoll;
    }

    /** The organization's deltas from now on; call {@link #release} when the stream that uses them ends. */
    synchronized Source<Delta, NotUsed> acquire(String organizationId) {
        Feed feed = feeds.get(organizationId);
        if (feed == null) {
            feed = start(organizationId);
        }
        feeds.put(organizationId, new Feed(feed.deltas(), feed.stop(), feed.streams() + 1));
        return feed.deltas();
    }

    synchronized void release(String organizationId) {
        Feed feed = feeds.get(organizationId);
        if (feed == null) {
            return;
        }
        if (feed.streams() <= 1) {
            feeds.remove(organizationId);
            feed.stop().shutdown();
        } else {
            feeds.put(organizationId, new Feed(feed.deltas(), feed.stop(), feed.streams() - 1));
        }
    }

    private Feed start(String organizationId) {
        AtomicLong revision = new AtomicLong(-1);
        Source<Long, ?> wakeUps = ActorSource.<Long>actorRef(any -> false, any -> Optional.empty(), 16,
                        OverflowStrategy.dropHead())
                .mapMaterializedValue(subscriber -> {
                    RevisionTopics.topic(system, organizationId).tell(Topic.subscribe(subscriber));
                    return subscriber;
                })
                .prepend(Source.single(0L))
                .merge(Source.tick(safetyPoll, safetyPoll, 0L))
                .conflate((older, newer) -> newer)
                .throttle(1, coalesceWindow);
        Pair<UniqueKillSwitch, Source<Delta, NotUsed>> running = wakeUps
                .viaMat(KillSwitches.single(), Keep.right())
                // A request that fails is one missed wake-up, not the end of the feed: the next one asks again.
                .mapAsync(1, tick -> ask(organizationId, Math.max(revision.get(), 0), null).exceptionally(failure ->
                        new Organization.Reply(503, failure.toString(), null, null, null)))
                .filter(Organization.Reply::isOk)
                .mapConcat(reply -> {
                    Organization.PeerMap map = reply.peerMap();
                    long from = revision.get();
                    revision.set(map.revision());
                    // The first answer only fixes where the feed starts; streams take their snapshot themselves.
                    boolean empty = !map.full() && map.peers().isEmpty() && map.removed().isEmpty()
                            && map.policyInputs() == null;
                    return from < 0 || empty ? java.util.List.<Delta>of() : java.util.List.of(new Delta(from, map));
                })
                .toMat(BroadcastHub.of(Delta.class, 16), Keep.both())
                .run(system);
        return new Feed(running.second(), running.first(), 0);
    }

    /** What changed since {@code sinceRevision}, with {@code deviceId}'s policy when it may have changed. */
    CompletionStage<Organization.Reply> ask(String organizationId, long sinceRevision, String deviceId) {
        return sharding.entityRefFor(Organization.ENTITY_KEY, organizationId)
                .ask(replyTo -> new Organization.GetPeerMap(sinceRevision, deviceId, replyTo), ASK_TIMEOUT);
    }
}
