package io.meshwork.control.http;

import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.RevisionTopics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Sink;
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
 * <p>The feed also keeps the organization's whole map at its revision ({@link FullPeerMap}): it starts from one
 * full map and moves it on with each delta. A stream starts from that map, and so does one that resumes from a
 * revision whose changes the organization no longer keeps: streams opening together (a member starting, nodes
 * reconnecting after a failover) cost the organization one full map per member, not one per stream, which it
 * builds one at a time. Streams wait for the feed's first map.
 *
 * <p>Security policies differ per device, so a delta in which some policy may have changed carries the groups
 * and their member devices instead of one device's policy; each stream resolves its own device's policy from them
 * and sends it only when it differs from the one it last sent.
 *
 * <p>A delta carries the revision it starts from; a stream that missed one (it subscribed late, or its client
 * read too slowly and its buffer dropped deltas) sees the gap and asks the organization for its own delta. The
 * feed stops, and forgets its map, when its last stream ends, and ends with its streams when the organization
 * answers that there is no such organization (it was deleted).
 */
final class PeerMapFeeds {

    /** The changes after {@code fromRevision}, up to {@code peerMap.revision()}. */
    record Delta(long fromRevision, Organization.PeerMap peerMap) {}

    /**
     * What a stream goes on from: the organization's answer, or a whole map resolved from the feed's, which is then
     * {@code shared} (null otherwise) so the stream can send the peers the feed rendered once for all its streams.
     */
    record Answer(Organization.Reply reply, FullPeerMap shared) {
        static Answer of(Organization.Reply reply) {
            return new Answer(reply, null);
        }
    }

    /**
     * A running feed: its subscribers' queues, how to stop it, how many streams share it, its map. Each delta is
     * offered to every queue; a queue that is full (its stream's client reads too slowly) loses it, and its stream
     * sees the gap and catches up on its own. Unlike a broadcast hub, the slowest stream holds no other back, and
     * the cost of a delta grows linearly with the number of streams.
     */
    private record Feed(Set<BoundedSourceQueue<Delta>> subscribers, UniqueKillSwitch stop,
            CompletableFuture<Done> ended, int streams, Latest latest) {
        Feed withStreams(int count) {
            return new Feed(subscribers, stop, ended, count, latest);
        }
    }

    /** Deltas a stream may be behind by before it loses some and must catch up by itself. */
    static final int STREAM_QUEUE = 64;

    /** The feed's full map, and the streams waiting for its first one. */
    private static final class Latest {
        private volatile FullPeerMap map;
        private CompletableFuture<FullPeerMap> first = new CompletableFuture<>();

        long revision() {
            FullPeerMap current = map;
            return current == null ? 0 : current.revision();
        }

        synchronized CompletableFuture<FullPeerMap> get() {
            return map != null ? CompletableFuture.completedFuture(map) : first;
        }

        /** Moves the map on by what the organization answered; false when that was the feed's first map. */
        boolean moveOn(Organization.PeerMap peerMap) {
            boolean hadOne;
            FullPeerMap next;
            CompletableFuture<FullPeerMap> waiting;
            synchronized (this) {
                hadOne = map != null;
                next = hadOne ? map.next(peerMap) : FullPeerMap.of(peerMap);
                map = next;
                waiting = first;
            }
            waiting.complete(next);
            return hadOne;
        }

        /** Until the feed has a map, its streams share its failures: they would each have met the same one. */
        synchronized void failed(Organization.Reply reply) {
            if (map == null) {
                first.completeExceptionally(new Unavailable(reply));
                first = new CompletableFuture<>();
            }
        }
    }

    /** The organization's answer instead of the feed's first map. */
    private static final class Unavailable extends RuntimeException {
        final transient Organization.Reply reply;

        Unavailable(Organization.Reply reply) {
            super(reply.error(), null, false, false);
            this.reply = reply;
        }
    }

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final Duration coalesceWindow;
    private final Duration safetyPoll;
    private final Duration askTimeout;
    private final Map<String, Feed> feeds = new HashMap<>();

    /** Feeds asking organizations with the member's {@code meshwork.control.ask-timeout}. */
    PeerMapFeeds(ActorSystem<?> system, Duration coalesceWindow, Duration safetyPoll) {
        this(system, coalesceWindow, safetyPoll,
                system.settings().config().getDuration("meshwork.control.ask-timeout"));
    }

    PeerMapFeeds(ActorSystem<?> system, Duration coalesceWindow, Duration safetyPoll, Duration askTimeout) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.coalesceWindow = coalesceWindow;
        this.safetyPoll = safetyPoll;
        this.askTimeout = askTimeout;
    }

    /** A stream's share of its organization's feed on this member. */
    final class Share {
        private final String organizationId;
        private final Feed feed;

        private Share(String organizationId, Feed feed) {
            this.organizationId = organizationId;
            this.feed = feed;
        }

        /** The organization's deltas from the time the stream subscribes; it ends when the feed does. */
        Source<Delta, NotUsed> deltas() {
            return Source.<Delta>queue(STREAM_QUEUE).watchTermination((queue, done) -> {
                feed.subscribers().add(queue);
                if (feed.ended().isDone()) {
                    // The feed ended before this stream subscribed: nothing more will come.
                    queue.complete();
                }
                done.whenComplete((ended, failure) -> feed.subscribers().remove(queue));
                return NotUsed.getInstance();
            });
        }

        /** The whole map as {@code deviceId} starts from it: the feed's, once the feed has its first. */
        CompletionStage<Answer> snapshot(String deviceId) {
            // Resolved on the dispatcher, not on the feed: the streams that waited for its first map resume at once.
            return feed.latest().get().copy().orTimeout(askTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .thenApplyAsync(map -> new Answer(new Organization.Reply(200, null, null, null,
                            map.forWatcher(deviceId)), map), system.executionContext())
                    .exceptionally(PeerMapFeeds::organizationsAnswer);
        }

        /**
         * What changed since {@code sinceRevision} with {@code deviceId}'s policy when it may have changed; when the
         * organization no longer keeps those changes, the whole map from {@link #snapshot}.
         */
        CompletionStage<Answer> catchUp(long sinceRevision, String deviceId) {
            return sharding.entityRefFor(Organization.ENTITY_KEY, organizationId)
                    .<Organization.Reply>ask(replyTo -> new Organization.GetPeerMapChanges(sinceRevision, deviceId,
                            replyTo), askTimeout)
                    .thenCompose(reply -> reply.status() == 410 ? snapshot(deviceId)
                            : CompletableFuture.completedFuture(Answer.of(reply)));
        }
    }

    /** A share of the organization's feed, started if need be; call {@link #release} when the stream ends. */
    synchronized Share acquire(String organizationId) {
        Feed feed = feeds.get(organizationId);
        if (feed == null) {
            feed = start(organizationId);
        } else if (feed.ended().isDone()) {
            // Its organization was gone: a new feed asks again, and counts the streams of the old one, which
            // release it as they end.
            feed = start(organizationId).withStreams(feed.streams());
        }
        feeds.put(organizationId, feed.withStreams(feed.streams() + 1));
        return new Share(organizationId, feed);
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
            feeds.put(organizationId, feed.withStreams(feed.streams() - 1));
        }
    }

    private Feed start(String organizationId) {
        Latest latest = new Latest();
        Set<BoundedSourceQueue<Delta>> subscribers = ConcurrentHashMap.newKeySet();
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
        Pair<UniqueKillSwitch, CompletionStage<Done>> running = wakeUps
                .viaMat(KillSwitches.single(), Keep.right())
                // A request that fails is one missed wake-up, not the end of the feed: the next one asks again.
                // The first asks from revision 0, which the organization answers with its full map.
                .mapAsync(1, tick -> fetch(organizationId, latest.revision()).exceptionally(failure ->
                        new Organization.Reply(503, failure.toString(), null, null, null)))
                // No such organization (deleted) ends the feed after that answer, and so every stream of it.
                .takeWhile(reply -> reply.status() != 404, true)
                .mapConcat(reply -> {
                    if (!reply.isOk()) {
                        latest.failed(reply);
                        return List.<Delta>of();
                    }
                    Organization.PeerMap map = reply.peerMap();
                    long from = latest.revision();
                    // The first map only starts the feed's own; streams take their start from that.
                    boolean started = latest.moveOn(map);
                    boolean empty = !map.full() && map.peers().isEmpty() && map.removed().isEmpty()
                            && map.policyInputs() == null;
                    return !started || empty ? List.<Delta>of() : List.of(new Delta(from, map));
                })
                .toMat(Sink.foreach(delta -> {
                    for (BoundedSourceQueue<Delta> queue : subscribers) {
                        queue.offer(delta);
                    }
                }), Keep.both())
                .run(system);
        CompletableFuture<Done> ended = running.second().toCompletableFuture()
                .whenComplete((done, failure) -> subscribers.forEach(BoundedSourceQueue::complete));
        return new Feed(subscribers, running.first(), ended, 0, latest);
    }

    /** What changed since {@code sinceRevision}, everything when not kept, for no device in particular. */
    private CompletionStage<Organization.Reply> fetch(String organizationId, long sinceRevision) {
        return sharding.entityRefFor(Organization.ENTITY_KEY, organizationId)
                .ask(replyTo -> new Organization.GetPeerMap(sinceRevision, replyTo), askTimeout);
    }

    /** The organization's answer a stream gets instead of the feed's map; any other failure stays one. */
    private static Answer organizationsAnswer(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof Unavailable unavailable) {
            return Answer.of(unavailable.reply);
        }
        throw failure instanceof CompletionException completion ? completion : new CompletionException(failure);
    }
}
