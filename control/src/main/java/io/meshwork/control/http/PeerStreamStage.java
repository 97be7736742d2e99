package io.meshwork.control.http;

import io.meshwork.control.organization.DnsSettings;
import io.meshwork.control.organization.Organization;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.SecurityPolicy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * One peer stream's bytes ({@link PeerStreamRoutes}), as one stage that holds the stream's state: the deltas of the
 * organization's feed ({@link PeerMapFeeds}) through a bounded inbox of its own, the relay list
 * ({@link RelayListFeed}) and the DNS settings ({@link DnsFeed}) through the members' shared feeds, a keepalive
 * line when the stream has been idle for {@code keepalive}, and gzip ({@link GzipStream}) when asked for. Each
 * event reaches the stage as an asynchronous callback; nothing else is materialized per stream.
 *
 * <p>Before, each stream was a chain of stages: the feed's queue, a {@code mapAsync}, filters, a {@code mapConcat},
 * a {@code completionStage} and {@code flatMapConcat} sub-stream each for the relay list and the DNS settings, two
 * {@code merge}s, {@code keepAlive}, {@code recoverWithRetries}, the on-stop stage and, for gzip, three more: their
 * materialization and the hops of every line between them were most of control's CPU in a fan-out to ten thousand
 * streams (docs/performance.md, "Fan-out: one stage per stream"). The lines and their order are those of that
 * chain.
 *
 * <p>Bounded: the inbox holds {@link PeerMapFeeds#STREAM_QUEUE} deltas (a client that reads too slowly loses what
 * comes beyond, sees the gap and catches up from the feed's map), and the stage takes the next delta, relay list
 * or DNS settings only once the lines before have been taken by the connection; of the relay list and the DNS
 * settings it keeps only the newest.
 */
final class PeerStreamStage extends GraphStage<SourceShape<ByteString>> {

    /** What streams share: the member's feeds, how lines are rendered, and the streams' bookkeeping. */
    record Services(PeerMapFeeds feeds, RelayListFeed relayLists, DnsFeed dnsSettings, JsonSupport json,
            AtomicInteger watchers, BiConsumer<String, String> ended, Duration keepalive) {}

    private final Outlet<ByteString> out = Outlet.create("PeerStreamStage.out");
    private final SourceShape<ByteString> shape = SourceShape.of(out);
    private final Services services;
    private final String organizationId;
    private final String deviceId;
    private final long since;
    private final boolean fromStart;
    private final boolean gzip;

    /**
     * The stream of {@code deviceId}: from the feed's whole map when {@code fromStart}, else from what it missed
     * since revision {@code since}; in gzip when {@code gzip}.
     */
    PeerStreamStage(Services services, String organizationId, String deviceId, long since, boolean fromStart,
            boolean gzip) {
        this.services = services;
        this.organizationId = organizationId;
        this.deviceId = deviceId;
        this.since = since;
        this.fromStart = fromStart;
        this.gzip = gzip;
    }

    @Override
    public SourceShape<ByteString> shape() {
        return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new Logic();
    }

    /**
     * The feed's deltas for one stream: at most {@link PeerMapFeeds#STREAM_QUEUE}. The feed's thread offers; the
     * stage is woken once when the inbox turns non-empty and then takes deltas until it is empty. A delta that finds
     * the inbox full (the client reads too slowly) empties it: the stream has lost deltas and next takes {@link #GAP},
     * on which it catches up from the feed's map, which already has every delta it lost.
     */
    private static final class Inbox implements PeerMapFeeds.Subscriber {
        /** Deltas were lost here: catch up. */
        static final PeerMapFeeds.Delta GAP = new PeerMapFeeds.Delta(Long.MIN_VALUE, null);

        private final ArrayDeque<PeerMapFeeds.Delta> deltas = new ArrayDeque<>();
        private final Runnable wake;
        private boolean ended;
        /** A wake-up is on its way or the stage has not emptied the inbox since the last one. */
        private boolean woken;

        Inbox(Runnable wake) {
            this.wake = wake;
        }

        @Override
        public void offer(PeerMapFeeds.Delta delta) {
            synchronized (this) {
                if (ended) {
                    return;
                }
                if (deltas.size() >= PeerMapFeeds.STREAM_QUEUE) {
                    deltas.clear();
                    deltas.add(GAP);
                } else {
                    deltas.add(delta);
                }
                if (woken) {
                    return;
                }
                woken = true;
            }
            wake.run();
        }

        @Override
        public void complete() {
            synchronized (this) {
                if (ended) {
                    return;
                }
                ended = true;
                if (woken) {
                    return;
                }
                woken = true;
            }
            wake.run();
        }

        synchronized PeerMapFeeds.Delta poll() {
            PeerMapFeeds.Delta delta = deltas.poll();
            if (delta == null) {
                woken = false;
            }
            return delta;
        }

        /** The feed ended and every delta it sent was taken. */
        synchronized boolean drained() {
            return ended && deltas.isEmpty();
        }
    }

    private static final Object KEEPALIVE_TIMER = "keepalive";

    private final class Logic extends TimerGraphStageLogic {
        private final ArrayDeque<ByteString> pending = new ArrayDeque<>();
        private final GzipStream encoder = gzip ? new GzipStream() : null;
        private PeerMapFeeds.Share share;
        private Runnable unsubscribe;
        private Runnable leaveRelays;
        private Runnable leaveDns;
        private long revision = since;
        /** The policy this stream last sent, so an unchanged one is not sent again. */
        private final AtomicReference<SecurityPolicy> policySent = new AtomicReference<>();
        /** An answer (a snapshot, a catch-up) is awaited: the next delta waits for it. */
        private boolean waiting;
        /** The first answer is in: the stream follows the relay list and the DNS settings. */
        private boolean started;
        private boolean relaysDue;
        private RelaysForDevices relaysSent;
        private DnsSettings.Changed dnsDue;
        private long dnsSent = -1;
        private boolean keepaliveDue;
        private long lastPushNanos = System.nanoTime();
        /** The stream ends once {@link #pending} has been sent. */
        private boolean finishing;

        private final AsyncCallback<Boolean> deltasArrived = createAsyncCallback(any -> drain());
        private final AsyncCallback<Pair<PeerMapFeeds.Answer, Throwable>> answered =
                createAsyncCallback(answer -> {
                    waiting = false;
                    onAnswer(answer.first(), answer.second());
                    drain();
                });
        private final AsyncCallback<Boolean> relaysChanged = createAsyncCallback(any -> {
            relaysDue = true;
            drain();
        });
        private final AsyncCallback<DnsSettings.Changed> dnsChanged = createAsyncCallback(changed -> {
            if (changed.version() > dnsSent && (dnsDue == null || changed.version() > dnsDue.version())) {
                dnsDue = changed;
            }
            drain();
        });
        private final Inbox inbox = new Inbox(() -> deltasArrived.invoke(Boolean.TRUE));

        Logic() {
            super(shape);
            setHandler(out, new AbstractOutHandler() {
                @Override
                public void onPull() {
                    drain();
                }
            });
        }

        @Override
        public void preStart() {
            services.watchers().incrementAndGet();
            share = services.feeds().acquire(organizationId);
            unsubscribe = share.subscribe(inbox);
            if (encoder != null) {
                pending.add(GzipStream.header());
            }
            // The stream's first map: the feed's whole one, or what it missed since its revision.
            await(fromStart ? share.snapshot(deviceId) : share.catchUp(since, deviceId));
            scheduleOnce(KEEPALIVE_TIMER, services.keepalive());
        }

        @Override
        public void onTimer(Object key) {
            long idle = System.nanoTime() - lastPushNanos;
            long interval = services.keepalive().toNanos();
            if (idle >= interval) {
                keepaliveDue = true;
                drain();
                scheduleOnce(KEEPALIVE_TIMER, services.keepalive());
            } else {
                scheduleOnce(KEEPALIVE_TIMER, Duration.ofNanos(interval - idle));
            }
        }

        /** Sends what is pending, and when nothing is, takes the next thing to send; ends the stream once finished. */
        private void drain() {
            if (pending.isEmpty() && !finishing && isAvailable(out)) {
                fill();
            }
            if (!pending.isEmpty() && isAvailable(out)) {
                push(out, pending.poll());
                lastPushNanos = System.nanoTime();
                keepaliveDue = false;
            }
            if (pending.isEmpty() && finishing) {
                completeStage();
            }
        }

        /** The next lines: the relay list or DNS settings when they changed, else the next delta's, else a keepalive. */
        private void fill() {
            try {
                if (relaysDue) {
                    relaysDue = false;
                    RelaysForDevices list = services.relayLists().current(organizationId);
                    if (list != null && !list.equals(relaysSent)) {
                        relaysSent = list;
                        send(StreamLine.of(services.json().line(PeerMapEvent.relays(revision, list.relays(),
                                list.stunServers()))));
                        return;
                    }
                }
                if (dnsDue != null) {
                    DnsSettings.Changed changed = dnsDue;
                    dnsDue = null;
                    dnsSent = changed.version();
                    send(StreamLine.of(services.json().line(PeerMapEvent.dns(revision, changed.config()))));
                    return;
                }
                while (!waiting && !finishing && pending.isEmpty()) {
                    PeerMapFeeds.Delta delta = inbox.poll();
                    if (delta == null) {
                        if (inbox.drained()) {
                            // The feed ended (its organization was deleted, or the member stops).
                            finish();
                        }
                        break;
                    }
                    if (delta == Inbox.GAP) {
                        // This stream lost deltas: what it missed, from the feed's map.
                        await(share.catchUp(revision, deviceId));
                    } else {
                        onDelta(delta);
                    }
                }
                if (pending.isEmpty() && keepaliveDue && !finishing) {
                    keepaliveDue = false;
                    send(StreamLine.of(services.json().line(new PeerMapEvent(PeerMapEvent.KEEPALIVE, revision,
                            List.of(), List.of()))));
                }
            } catch (RuntimeException e) {
                // What the stream cannot render ends it; the node resumes from its last revision.
                finish();
            }
        }

        private void onDelta(PeerMapFeeds.Delta delta) {
            if (delta.peerMap().revision() <= revision) {
                return;
            }
            if (delta.peerMap().full()) {
                // The feed started over from a whole map: so does the stream.
                await(share.snapshot(deviceId));
            } else if (delta.fromRevision() <= revision) {
                onAnswer(PeerMapFeeds.Answer.of(delta), null);
            } else {
                // A gap (the stream subscribed after the feed's map it started from moved on): what it missed.
                await(share.catchUp(revision, deviceId));
            }
        }

        private void await(CompletionStage<PeerMapFeeds.Answer> answer) {
            waiting = true;
            CompletableFuture<PeerMapFeeds.Answer> future = answer.toCompletableFuture();
            if (future.isDone()) {
                waiting = false;
                PeerMapFeeds.Answer value;
                try {
                    value = future.join();
                } catch (RuntimeException e) {
                    onAnswer(null, e);
                    return;
                }
                onAnswer(value, null);
                return;
            }
            future.whenComplete((value, failure) -> answered.invoke(Pair.create(value, failure)));
        }

        /**
         * The lines of an answer. A failure, an answer that is not a map (a member shutting down, an organization
         * not answering) or the device's own removal ends the stream.
         */
        private void onAnswer(PeerMapFeeds.Answer answer, Throwable failure) {
            if (finishing) {
                return;
            }
            // A revoked or deleted device's own stream ends (without the line of its removal).
            if (failure != null || !answer.isOk() || answer.peerMap().removed().contains(deviceId)) {
                finish();
                return;
            }
            if (!started) {
                started = true;
                // The relay list and DNS settings follow this answer's lines (their callbacks come after it).
                leaveRelays = services.relayLists().follow(() -> relaysChanged.invoke(Boolean.TRUE));
                leaveDns = services.dnsSettings().follow(organizationId, dnsChanged::invoke);
            }
            try {
                for (StreamLine line : lines(answer)) {
                    send(line);
                }
            } catch (RuntimeException e) {
                finish();
            }
        }

        private List<StreamLine> lines(PeerMapFeeds.Answer answer) {
            if (answer.delta() != null) {
                revision = answer.delta().peerMap().revision();
                return PeerStreamRoutes.deltaStreamLines(answer.delta(), deviceId, policySent, services.json());
            }
            Organization.PeerMap map = answer.reply().peerMap();
            boolean first = revision == since && fromStart;
            boolean newPolicy = map.policy() != null && !map.policy().equals(policySent.get());
            // Also when nothing in it concerns this device (a group change that leaves its policy as it was): the
            // stream is up to date to there, and the next shared delta follows on without a gap.
            revision = map.revision();
            if (!map.full() && map.peers().isEmpty() && map.removed().isEmpty() && !newPolicy && !first) {
                return List.of();
            }
            if (map.full()) {
                policySent.set(map.policy());
                if (answer.shared() != null) {
                    PeerMapFeeds.Start start = answer.shared();
                    try {
                        return List.of(start.map().snapshot(deviceId, start.visible(), start.policy(),
                                services.json().mapper()));
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new IllegalStateException("a snapshot did not render as JSON", e);
                    }
                }
            }
            return PeerStreamRoutes.lines(map, deviceId, newPolicy, policySent, services.json()).stream()
                    .map(StreamLine::of).toList();
        }

        private void send(StreamLine line) {
            pending.add(encoder != null ? encoder.line(line) : line.raw());
        }

        /** Ends the stream after what is pending (and, in gzip, the member's trailer). */
        private void finish() {
            if (finishing) {
                return;
            }
            finishing = true;
            if (encoder != null) {
                pending.add(encoder.trailer());
            }
        }

        @Override
        public void postStop() {
            if (unsubscribe != null) {
                unsubscribe.run();
            }
            if (leaveRelays != null) {
                leaveRelays.run();
            }
            if (leaveDns != null) {
                leaveDns.run();
            }
            services.watchers().decrementAndGet();
            services.ended().accept(organizationId, deviceId);
            if (share != null) {
                services.feeds().release(organizationId);
            }
        }
    }
}
