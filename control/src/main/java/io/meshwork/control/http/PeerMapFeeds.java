package io.meshwork.control.http;

import io.meshwork.control.Answers;
import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.RevisionTopics;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.SecurityPolicy;
import java.util.ArrayList;
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
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.UniqueKillSwitch;
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
 * <p>Peer maps and policies differ per device under security groups (docs/api.md, "Security groups"), so the feed
 * also keeps who may learn whom ({@link FeedVisibility}) and moves it with each delta: the delta it broadcasts
 * carries, besides the changed devices, the peers that entered and left each device's map, each changed device's
 * audience and each changed policy. A stream picks its own lines from that, and a device never hears of a peer it
 * may not learn.
 *
 * <p>A delta carries the revision it starts from; a stream that missed one (it subscribed late, or its client
 * read too slowly and its buffer dropped deltas), or that resumes from a revision, catches up from the feed's map:
 * the devices that changed since, when no change since may have altered what anyone may learn, else the whole map
 * ({@link FullPeerMap#changedSince}). The feed stops, and forgets its map, when its last stream ends, and ends with
 * its streams when the organization answers that there is no such organization (it was deleted).
 */
final class PeerMapFeeds {

    /**
     * The changes after {@code fromRevision}, up to {@code peerMap.revision()}: the organization's delta, the feed's
     * map after it, and what it changed for each device's map ({@code view}).
     */
    record Delta(long fromRevision, Organization.PeerMap peerMap, FullPeerMap map, FeedVisibility.View view,
            Map<String, org.apache.pekko.util.ByteString> rendered,
            Map<SecurityPolicy, org.apache.pekko.util.ByteString> renderedPolicies,
            java.util.concurrent.atomic.AtomicReference<StreamLine.Part> allUpserted) {
        Delta(long fromRevision, Organization.PeerMap peerMap, FullPeerMap map, FeedVisibility.View view) {
            this(fromRevision, peerMap, map, view, new ConcurrentHashMap<>(), new ConcurrentHashMap<>(),
                    new java.util.concurrent.atomic.AtomicReference<>());
        }

        /**
         * The upsert line of every peer of this delta, in its order: what each stream whose device may see them all
         * (and is not among them, and gained no other) sends, built (and, for gzip streams, compressed) once.
         */
        StreamLine.Part allUpserted(java.util.function.Supplier<org.apache.pekko.util.ByteString> line) {
            StreamLine.Part part = allUpserted.get();
            if (part == null) {
                part = StreamLine.Part.shared(line.get());
                if (!allUpserted.compareAndSet(null, part)) {
                    part = allUpserted.get();
                }
            }
            return part;
        }

        /** {@code policy} as JSON, rendered once for all the devices that have an equal one. */
        org.apache.pekko.util.ByteString render(SecurityPolicy policy, com.fasterxml.jackson.databind.ObjectMapper json) {
            return renderedPolicies.computeIfAbsent(policy, any -> {
                try {
                    return org.apache.pekko.util.ByteString.fromArray(json.writeValueAsBytes(policy));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException("a policy did not render as JSON", e);
                }
            });
        }

        Delta(long fromRevision, Organization.PeerMap peerMap) {
            this(fromRevision, peerMap, null, FeedVisibility.View.NONE);
        }

        /** {@code peer} as JSON, rendered once for all the streams that send it with this delta. */
        org.apache.pekko.util.ByteString render(PeerInfo peer, com.fasterxml.jackson.databind.ObjectMapper json) {
            return rendered.computeIfAbsent(peer.id(), id -> {
                try {
                    return org.apache.pekko.util.ByteString.fromArray(json.writeValueAsBytes(peer));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException("a peer did not render as JSON", e);
                }
            });
        }
    }

    /** Where a stream starts from: the feed's map, the peers the device may learn in it (null: all), its policy. */
    record Start(FullPeerMap map, Set<String> visible, SecurityPolicy policy) {}

    /**
     * What a stream goes on from: an answer (the organization's, or one made from the feed's map, which is then
     * {@code shared} so the stream can send the peers the feed rendered once for all its streams), or a shared
     * {@code delta} of the feed.
     */
    record Answer(Organization.Reply reply, Start shared, Delta delta) {
        static Answer of(Organization.Reply reply) {
            return new Answer(reply, null, null);
        }

        static Answer of(Delta delta) {
            return new Answer(null, null, delta);
        }

        boolean isOk() {
            return delta != null || reply.isOk();
        }

        Organization.PeerMap peerMap() {
            return delta != null ? delta.peerMap() : reply.peerMap();
        }
    }

    /**
     * A running feed: its subscribers' queues, how to stop it, how many streams share it, its map. Each delta is
     * offered to every queue; a queue that is full (its stream's client reads too slowly) loses it, and its stream
     * sees the gap and catches up on its own. Unlike a broadcast hub, the slowest stream holds no other back, and
     * the cost of a delta grows linearly with the number of streams.
     */
    private record Feed(Set<Subscriber> subscribers, UniqueKillSwitch stop,
            CompletableFuture<Done> ended, int streams, Latest latest) {
        Feed withStreams(int count) {
            return new Feed(subscribers, stop, ended, count, latest);
        }
    }

    /** Deltas a stream may be behind by before it loses some and must catch up by itself. */
    static final int STREAM_QUEUE = 64;

    /**
     * Where the feed hands its deltas to one stream. {@code offer} must not block: it runs on the feed's thread,
     * once per delta and stream, and drops the delta when the stream has {@link #STREAM_QUEUE} waiting.
     */
    interface Subscriber {
        void offer(Delta delta);

        /** The feed ended: nothing more will come. */
        void complete();
    }

    /**
     * The feed's full map and who may learn whom in it, and the streams waiting for its first one. The map and its
     * visibility move together, under this object's lock, so a stream's start is always one revision's.
     */
    private static final class Latest {
        private volatile FullPeerMap map;
        private FeedVisibility visibility;
        private CompletableFuture<FullPeerMap> first = new CompletableFuture<>();

        long revision() {
            FullPeerMap current = map;
            return current == null ? 0 : current.revision();
        }

        synchronized CompletableFuture<FullPeerMap> get() {
            return map != null ? CompletableFuture.completedFuture(map) : first;
        }

        /** Where {@code deviceId}'s stream starts: the map now, what it may learn of it, and its policy. */
        synchronized Start start(String deviceId) {
            return new Start(map, visibility.visibleTo(deviceId), visibility.policyOf(deviceId));
        }

        /**
         * Moves the map on by what the organization answered: the delta for the streams, or null when that was the
         * feed's first map (which streams take their start from).
         */
        Delta moveOn(Organization.PeerMap peerMap) {
            Delta delta;
            FullPeerMap next;
            CompletableFuture<FullPeerMap> waiting;
            synchronized (this) {
                FullPeerMap before = map;
                next = before != null ? before.next(peerMap) : FullPeerMap.of(peerMap);
                if (before == null) {
                    visibility = new FeedVisibility(next);
                    delta = null;
                } else {
                    delta = new Delta(before.revision(), peerMap, next, visibility.moveOn(before, peerMap, next));
                }
                map = next;
                waiting = first;
            }
            waiting.complete(next);
            return delta;
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

        /**
         * The organization's deltas from the time the stream subscribes; it ends when the feed does. Each call's
         * source is for one stream (materialized once).
         */
        Source<Delta, NotUsed> deltas() {
            AtomicReference<Runnable> unsubscribe = new AtomicReference<>();
            return Source.<Delta>queue(STREAM_QUEUE).mapMaterializedValue(queue -> {
                unsubscribe.set(subscribe(new Subscriber() {
                    @Override
                    public void offer(Delta delta) {
                        queue.offer(delta);
                    }

                    @Override
                    public void complete() {
                        queue.complete();
                    }
                }));
                return NotUsed.getInstance();
            }).via(new OnStop<>(() -> {
                Runnable leave = unsubscribe.get();
                if (leave != null) {
                    leave.run();
                }
            }));
        }

        /**
         * Hands the feed's deltas from now on to {@code subscriber} (completed at once when the feed has ended);
         * returns what unsubscribes it.
         */
        Runnable subscribe(Subscriber subscriber) {
            feed.subscribers().add(subscriber);
            if (feed.ended().isDone()) {
                // The feed ended before this stream subscribed: nothing more will come.
                subscriber.complete();
            }
            return () -> feed.subscribers().remove(subscriber);
        }

        /** The whole map as {@code deviceId} starts from it: the feed's, once the feed has its first. */
        CompletionStage<Answer> snapshot(String deviceId) {
            return catchUp(-1, deviceId);
        }

        /**
         * What {@code deviceId}'s stream at {@code sinceRevision} missed, from the feed's map once it has its first:
         * the peers it may learn among those that changed since, when no change since may have altered what it may
         * learn, else ({@code sinceRevision} negative, or not all changes since remembered) the whole map.
         */
        CompletionStage<Answer> catchUp(long sinceRevision, String deviceId) {
            // Resolved on the dispatcher, not on the feed: the streams that waited for its first map resume at once.
            return feed.latest().get().copy().orTimeout(askTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .thenApplyAsync(any -> missed(feed.latest().start(deviceId), sinceRevision, deviceId),
                            system.executionContext())
                    .exceptionally(PeerMapFeeds::organizationsAnswer);
        }

        private Answer missed(Start start, long sinceRevision, String deviceId) {
            FullPeerMap map = start.map();
            Set<String> changed = sinceRevision < 0 ? null : map.changedSince(sinceRevision);
            if (changed == null) {
                // The stream sends the snapshot from the shared start; the reply carries only its revision and
                // policy (listing the peers here cost every stream of a reconnect storm a pass over the whole map).
                return new Answer(new Organization.Reply(200, null, null, null, map.header(start.policy())), start,
                        null);
            }
            List<PeerInfo> peers = new ArrayList<>();
            List<String> removed = new ArrayList<>();
            for (String id : changed) {
                PeerInfo peer = map.peers().get(id);
                if (peer == null) {
                    // Only without security groups (see changedSince), where every device saw it.
                    removed.add(id);
                } else if (start.visible() == null || start.visible().contains(id) || id.equals(deviceId)) {
                    peers.add(peer);
                }
            }
            return Answer.of(new Organization.Reply(200, null, null, null, new Organization.PeerMap(
                    Math.max(sinceRevision, map.revision()), false, peers, removed, null, null)));
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

    /** Whether this member runs a feed of {@code organizationId} (for tests). */
    synchronized boolean running(String organizationId) {
        return feeds.containsKey(organizationId);
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
        Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
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
                    // The first map only starts the feed's own; streams take their start from that.
                    Delta delta = latest.moveOn(map);
                    boolean empty = !map.full() && map.peers().isEmpty() && map.removed().isEmpty()
                            && map.policyInputs() == null;
                    return delta == null || empty ? List.<Delta>of() : List.of(delta);
                })
                .toMat(Sink.foreach(delta -> {
                    for (Subscriber subscriber : subscribers) {
                        subscriber.offer(delta);
                    }
                }), Keep.both())
                .run(system);
        CompletableFuture<Done> ended = running.second().toCompletableFuture()
                .whenCompleteAsync((done, failure) -> subscribers.forEach(Subscriber::complete),
                        Answers.DIRECT);
        return new Feed(subscribers, running.first(), ended, 0, latest);
    }

    /** What changed since {@code sinceRevision}, everything when not kept, for no device in particular. */
    private CompletionStage<Organization.Reply> fetch(String organizationId, long sinceRevision) {
        return Answers.onDispatcher(sharding.entityRefFor(Organization.ENTITY_KEY, organizationId)
                .ask(replyTo -> new Organization.GetPeerMap(sinceRevision, replyTo), askTimeout),
                system.executionContext());
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
