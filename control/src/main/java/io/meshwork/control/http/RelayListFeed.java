package io.meshwork.control.http;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The relay list devices get ({@link RelaysForDevices}) as this member's peer streams follow it. The list is made
 * from one catalog for every organization (a node's relay is left out of other organizations' lists, see
 * {@link RelaysForDevices.Catalog#forOrganization}), so one feed per member reads it, every {@code poll} while any stream follows it, and
 * wakes the streams when it changed; a stream then reads the newest list. Reads go through
 * {@link Entities#relaysForDevices}, whose cache keeps the relay directory at one ask per member per second at
 * most however many streams there are.
 *
 * <p>A stream's wake-ups are a flag: a change while one is pending costs nothing more, and the stream still
 * reads the newest list, so a slow client never falls behind by more than one list. The feed stops reading, and
 * forgets its list, when its last stream ends.
 */
final class RelayListFeed {

    private final ActorSystem<?> system;
    private final Supplier<CompletionStage<RelaysForDevices.Catalog>> read;
    private final Duration poll;
    private final Set<Runnable> wakeUps = ConcurrentHashMap.newKeySet();
    /** The newest list read, null until the first read of this run answered. */
    private volatile RelaysForDevices.Catalog latest;
    /** Guarded by {@code this}: the streams following, and the polls while there are any. */
    private int streams;
    private Cancellable polls;
    /** Guarded by {@code this}: a read is under way (a slow directory does not pile reads up). */
    private boolean reading;

    RelayListFeed(ActorSystem<?> system, Supplier<CompletionStage<RelaysForDevices.Catalog>> read, Duration poll) {
        this.system = system;
        this.read = read;
        this.poll = poll;
    }

    /**
     * Calls {@code wake} (on the feed's thread: it must be cheap and not block) when the feed has a list and
     * whenever it changes; the follower then reads {@link #current}. Returns what stops following, which the
     * follower must call once.
     */
    Runnable follow(Runnable wake) {
        wakeUps.add(wake);
        synchronized (this) {
            streams++;
            if (polls == null) {
                polls = system.scheduler().scheduleAtFixedRate(Duration.ZERO, poll, this::readNow,
                        system.executionContext());
            }
        }
        if (latest != null) {
            wake.run();
        }
        return () -> leave(wake);
    }

    /** The newest list as {@code organizationId}'s devices get it, null until the feed has read one. */
    RelaysForDevices current(String organizationId) {
        RelaysForDevices.Catalog list = latest;
        return list == null ? null : list.forOrganization(organizationId);
    }

    /** How many streams follow the list (for tests). */
    int followers() {
        return wakeUps.size();
    }

    private void leave(Runnable wake) {
        if (!wakeUps.remove(wake)) {
            return;
        }
        synchronized (this) {
            streams--;
            if (streams == 0 && polls != null) {
                polls.cancel();
                polls = null;
                // Not followed any more: the next stream waits for a fresh read rather than starting from this one.
                latest = null;
            }
        }
    }

    private void readNow() {
        synchronized (this) {
            if (reading || polls == null) {
                return;
            }
            reading = true;
        }
        CompletionStage<RelaysForDevices.Catalog> answer;
        try {
            answer = read.get();
        } catch (RuntimeException e) {
            finishRead(null);
            return;
        }
        // A failed read (the directory did not answer) changes nothing; the next poll reads again.
        answer.whenComplete((list, failure) -> finishRead(list));
    }

    private void finishRead(RelaysForDevices.Catalog list) {
        boolean changed;
        synchronized (this) {
            reading = false;
            changed = list != null && polls != null && !list.equals(latest);
            if (changed) {
                latest = list;
            }
        }
        if (changed) {
            for (Runnable wake : wakeUps) {
                // A follower with a wake-up pending reads the newest list then: nothing more is queued.
                wake.run();
            }
        }
    }
}
