package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import io.meshwork.control.organization.Organization;
import io.meshwork.protocol.api.Endpoint;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * A member's shared feed hands every stream the organization's deltas through the stream's own bounded queue: a
 * stream that does not read holds no other back, loses what overflows its queue, and sees the gap when it reads
 * again (the stream then catches up by itself, see {@code ControlRoutes}).
 */
class PeerMapFeedsTest {

    private static ControlServer server;

    @BeforeAll
    static void start() throws Exception {
        server = ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                "meshwork.control.data-dir", Files.createTempDirectory("mw-feeds").toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", "mwa.feeds",
                "meshwork.control.metrics", "127.0.0.1:0",
                "pekko.remote.artery.canonical.port", 0))));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Organization.Reply organization(String id,
            Function<ActorRef<Organization.Reply>, Organization.Command> command) throws Exception {
        return ClusterSharding.get(server.system()).entityRefFor(Organization.ENTITY_KEY, id)
                .<Organization.Reply>ask(command::apply, Duration.ofSeconds(10))
                .toCompletableFuture().get(15, TimeUnit.SECONDS);
    }

    @Test
    void aStreamThatDoesNotReadHoldsNoOtherBackAndSeesTheGapWhenItReadsAgain() throws Exception {
        String org = "ofeeds";
        organization(org, replyTo -> new Organization.Create("feeds", "100.64.0.0/10", "h", 1, replyTo));
        organization(org, replyTo -> new Organization.CreateKey("k", "s", true, 0, 1, replyTo));
        organization(org, replyTo -> new Organization.Register("k", "s", "d1", "pk1", "mover", Map.of(), List.of(),
                "t", "serial", 2, replyTo));

        PeerMapFeeds feeds = new PeerMapFeeds(server.system(), Duration.ofMillis(10), Duration.ofSeconds(5));
        PeerMapFeeds.Share reading = feeds.acquire(org);
        PeerMapFeeds.Share stalled = feeds.acquire(org);
        List<PeerMapFeeds.Delta> read = new CopyOnWriteArrayList<>();
        reading.deltas().runWith(Sink.foreach(read::add), server.system());
        // Subscribed, but asks for nothing until told to.
        Publisher<PeerMapFeeds.Delta> parked = stalled.deltas()
                .runWith(Sink.asPublisher(AsPublisher.WITHOUT_FANOUT), server.system());
        DemandOnRequest late = new DemandOnRequest();
        parked.subscribe(late);
        Thread.sleep(300);

        int changes = PeerMapFeeds.STREAM_QUEUE * 3;
        long last = 0;
        for (int i = 0; i < changes; i++) {
            int port = 10_000 + i;
            last = organization(org, replyTo -> new Organization.ReportEndpoints("d1",
                    List.of(new Endpoint("198.51.100.1:" + port, "stun")), Map.of(), 3, replyTo)).revision();
            Thread.sleep(25);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (lastRevision(read) < last && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(last, lastRevision(read), "the reading stream got every change while the other read nothing");
        // Room for the stalled stream's queue and the few elements its stages take in ahead of demand.
        int held = PeerMapFeeds.STREAM_QUEUE + 32;
        assertTrue(read.size() > held, "more deltas than a stalled stream can hold went by: " + read.size());
        for (int i = 1; i < read.size(); i++) {
            assertEquals(read.get(i - 1).peerMap().revision(), read.get(i).fromRevision(), "no gap for a reader");
        }

        late.request(Long.MAX_VALUE);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (late.received.size() < PeerMapFeeds.STREAM_QUEUE && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(200);
        assertTrue(late.received.size() >= PeerMapFeeds.STREAM_QUEUE && late.received.size() <= held,
                "a stalled stream keeps its queue and no more: " + late.received.size() + " of " + read.size());
        long keptUntil = lastRevision(late.received);
        assertTrue(keptUntil < last, "it missed the latest changes while it did not read");
        for (int i = 1; i < late.received.size(); i++) {
            assertEquals(late.received.get(i - 1).peerMap().revision(), late.received.get(i).fromRevision(),
                    "what it kept is in order");
        }

        // The next change reaches it starting from a revision it never saw: the gap that makes a stream catch up.
        long next = organization(org, replyTo -> new Organization.ReportEndpoints("d1",
                List.of(new Endpoint("198.51.100.2:9", "stun")), Map.of(), 4, replyTo)).revision();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (lastRevision(late.received) < next && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        PeerMapFeeds.Delta after = late.received.get(late.received.size() - 1);
        assertEquals(next, after.peerMap().revision());
        assertTrue(after.fromRevision() > keptUntil, "from " + after.fromRevision() + ", it had " + keptUntil);

        feeds.release(org);
        feeds.release(org);
    }

    private static long lastRevision(List<PeerMapFeeds.Delta> deltas) {
        return deltas.isEmpty() ? 0 : deltas.get(deltas.size() - 1).peerMap().revision();
    }

    /** A subscriber that asks for elements only when {@link #request} is called. */
    private static final class DemandOnRequest implements Subscriber<PeerMapFeeds.Delta> {
        final List<PeerMapFeeds.Delta> received = new CopyOnWriteArrayList<>();
        private volatile Subscription subscription;

        @Override
        public void onSubscribe(Subscription subscription) {
            this.subscription = subscription;
        }

        void request(long n) {
            subscription.request(n);
        }

        @Override
        public void onNext(PeerMapFeeds.Delta delta) {
            received.add(delta);
        }

        @Override
        public void onError(Throwable failure) {}

        @Override
        public void onComplete() {}
    }
}
