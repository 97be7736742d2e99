package io.meshwork.simulation;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ScheduledExecutorService} on virtual time, for code that takes one for its timers (the STUN client,
 * the NAT prober): tasks run on the simulation's driving thread when the {@link SimScheduler} reaches them.
 *
 * <p>Tasks never run on their own: the driver must advance the scheduler. So the blocking methods
 * ({@code invokeAll}, {@code invokeAny}, {@code awaitTermination} with tasks pending, {@code get} on a
 * future) must not be called from the driving thread; they would wait for time that never passes.
 */
public final class VirtualTimeExecutor extends AbstractExecutorService implements ScheduledExecutorService {

    private final SimScheduler scheduler;
    private volatile boolean shutdown;

    public VirtualTimeExecutor(SimScheduler scheduler) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    /** A task on virtual time; periodic ones reschedule themselves after each run. */
    private final class VirtualFuture<V> extends FutureTask<V> implements RunnableScheduledFuture<V> {
        private final long periodNanos;
        private final boolean fixedRate;
        private volatile long dueNanos;
        private volatile Cancellable timer;

        VirtualFuture(Callable<V> callable, long delayNanos) {
            super(callable);
            this.periodNanos = 0;
            this.fixedRate = false;
            this.dueNanos = scheduler.nowNanos() + Math.max(0, delayNanos);
        }

        VirtualFuture(Runnable runnable, long delayNanos, long periodNanos, boolean fixedRate) {
            super(runnable, null);
            this.periodNanos = periodNanos;
            this.fixedRate = fixedRate;
            this.dueNanos = scheduler.nowNanos() + Math.max(0, delayNanos);
        }

        void arm() {
            timer = scheduler.schedule(dueNanos - scheduler.nowNanos(), this);
        }

        @Override
        public boolean isPeriodic() {
            return periodNanos > 0;
        }

        @Override
        public void run() {
            if (!isPeriodic()) {
                super.run();
                return;
            }
            if (shutdown) {
                // As ScheduledThreadPoolExecutor by default: periodic tasks end with the executor.
                super.cancel(false);
                return;
            }
            if (runAndReset()) {
                dueNanos = fixedRate ? dueNanos + periodNanos : scheduler.nowNanos() + periodNanos;
                arm();
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(false);
            Cancellable armed = timer;
            if (cancelled && armed != null) {
                armed.cancel();
            }
            return cancelled;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - scheduler.nowNanos(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }
    }

    private <V> VirtualFuture<V> submitFuture(VirtualFuture<V> future) {
        if (shutdown) {
            throw new RejectedExecutionException("the executor is shut down");
        }
        future.arm();
        return future;
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return submitFuture(new VirtualFuture<>(Executors.callable(command, null), unit.toNanos(delay)));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return submitFuture(new VirtualFuture<>(callable, unit.toNanos(delay)));
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        requirePositive(period);
        return submitFuture(new VirtualFuture<>(command, unit.toNanos(initialDelay), unit.toNanos(period), true));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        requirePositive(delay);
        return submitFuture(new VirtualFuture<>(command, unit.toNanos(initialDelay), unit.toNanos(delay), false));
    }

    private static void requirePositive(long period) {
        if (period <= 0) {
            throw new IllegalArgumentException("period must be positive: " + period);
        }
    }

    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    /** Refuses new tasks; periodic tasks do not run again, one-shot tasks already queued still run. */
    @Override
    public void shutdown() {
        shutdown = true;
    }

    /** As {@link #shutdown()}; queued tasks cannot be listed, since they live in the shared scheduler. */
    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return shutdown;
    }
}
