package io.meshwork.simulation;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * A discrete-event {@link SimScheduler}: due tasks wait in a queue ordered by (due time, order of scheduling)
 * and run on the thread that calls {@link #advance} or {@link #runUntil}, so a run is a pure function of the
 * seed and of what the tasks do. Tasks may schedule further tasks, also from other threads; a task that
 * throws stops the driver with that exception, since a simulation that lost an event is no longer the one
 * described.
 */
public final class DiscreteEventScheduler implements SimScheduler {

    private final Object lock = new Object();
    private final PriorityQueue<Entry> queue = new PriorityQueue<>();
    private final Random random;
    private volatile long nowNanos;
    private long nextSequence;
    private long executedTasks;

    public DiscreteEventScheduler(long seed) {
        this.random = new Random(seed);
    }

    private static final class Entry implements Comparable<Entry>, Cancellable {
        final long dueNanos;
        final long sequence;
        final Runnable task;
        volatile boolean cancelled;
        volatile boolean started;

        Entry(long dueNanos, long sequence, Runnable task) {
            this.dueNanos = dueNanos;
            this.sequence = sequence;
            this.task = task;
        }

        @Override
        public int compareTo(Entry other) {
            int byTime = Long.compare(dueNanos, other.dueNanos);
            return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
        }

        @Override
        public boolean cancel() {
            if (started || cancelled) {
                return false;
            }
            cancelled = true;
            return true;
        }
    }

    @Override
    public long nowNanos() {
        return nowNanos;
    }

    @Override
    public Cancellable schedule(long delayNanos, Runnable task) {
        Objects.requireNonNull(task, "task");
        synchronized (lock) {
            long due = nowNanos + Math.max(0, delayNanos);
            Entry entry = new Entry(due < nowNanos ? Long.MAX_VALUE : due, nextSequence++, task);
            queue.add(entry);
            return entry;
        }
    }

    @Override
    public Random random() {
        return random;
    }

    /** Runs every task due within {@code duration}, then leaves the clock {@code duration} later. */
    public void advance(Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("time cannot go back: " + duration);
        }
        long target = nowNanos + duration.toNanos();
        while (runNextDueBy(target)) {
            // Each call runs one task; tasks may add more before the target.
        }
        nowNanos = target;
    }

    /**
     * Runs tasks in order until {@code condition} holds (checked before each task) or {@code limit} of
     * virtual time has passed. The clock stops at the task that made the condition true.
     *
     * @return whether the condition holds
     */
    public boolean runUntil(BooleanSupplier condition, Duration limit) {
        long target = nowNanos + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (!runNextDueBy(target)) {
                nowNanos = target;
                return condition.getAsBoolean();
            }
        }
        return true;
    }

    /** Runs tasks until none is left that is due within {@code limit}; the clock stops at the last one run. */
    public void runUntilIdle(Duration limit) {
        long target = nowNanos + limit.toNanos();
        while (runNextDueBy(target)) {
            // Keep going: the queue empties unless tasks keep rescheduling themselves.
        }
    }

    /** Tasks waiting to run, cancelled ones excluded. */
    public int pendingTasks() {
        synchronized (lock) {
            return (int) queue.stream().filter(entry -> !entry.cancelled).count();
        }
    }

    /**
     * When the next task is due, in nanoseconds of virtual time; empty when none is queued. A driver that
     * steps a second clock in lockstep (Pekko's ManualTime) advances both to this instant at a time.
     */
    public OptionalLong nextDueNanos() {
        synchronized (lock) {
            return queue.stream().filter(entry -> !entry.cancelled).mapToLong(entry -> entry.dueNanos).min();
        }
    }

    /** Tasks run so far. */
    public long executedTasks() {
        return executedTasks;
    }

    private boolean runNextDueBy(long targetNanos) {
        Entry next;
        synchronized (lock) {
            while (true) {
                next = queue.peek();
                if (next == null || next.dueNanos > targetNanos) {
                    return false;
                }
                queue.poll();
                if (!next.cancelled) {
                    break;
                }
            }
            next.started = true;
            nowNanos = next.dueNanos;
        }
        executedTasks++;
        next.task.run();
        return true;
    }
}
