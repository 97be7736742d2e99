package io.meshwork.simulation;

import com.typesafe.config.Config;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.event.LoggingAdapter;
import scala.concurrent.ExecutionContext;
import scala.concurrent.duration.FiniteDuration;

/**
 * Pekko's scheduler on a simulation's virtual clock: actor timers fire when the {@link DiscreteEventScheduler}
 * reaches their instant, interleaved with packets in one deterministic order. Together with the calling-thread
 * dispatcher every actor step happens on the thread driving the simulation, so a seed fixes the whole run.
 *
 * <p>Unlike Pekko's ManualTime this needs no steps of its own (and no sleeps between them): there is one clock.
 * Use {@link #config} for the actor system and {@link #attach} before creating it.
 */
public final class PekkoSimScheduler implements org.apache.pekko.actor.Scheduler {

    private static final String KEY = "meshwork.sim.scheduler-id";
    private static final Map<Long, DiscreteEventScheduler> PENDING = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();

    private final DiscreteEventScheduler clock;

    /** Called by Pekko with the actor system's settings. */
    public PekkoSimScheduler(Config config, LoggingAdapter log, ThreadFactory threadFactory) {
        DiscreteEventScheduler attached = PENDING.remove(config.getLong(KEY));
        if (attached == null) {
            throw new IllegalStateException("no simulation attached under " + KEY + "; use PekkoSimScheduler.config");
        }
        this.clock = attached;
    }

    /**
     * Settings for an actor system whose timers run on {@code clock}; its actors should run on the
     * calling-thread dispatcher ({@link #CALLING_THREAD_DISPATCHER}).
     */
    public static String config(DiscreteEventScheduler clock) {
        long id = IDS.incrementAndGet();
        PENDING.put(id, clock);
        return "pekko.scheduler.implementation = \"" + PekkoSimScheduler.class.getName() + "\"\n"
                + KEY + " = " + id + "\n"
                + "pekko.loglevel = WARNING\n"
                + "pekko.log-dead-letters = off\n";
    }

    /** Dispatcher that runs an actor on the thread that sends to it: the simulation's. */
    public static final String CALLING_THREAD_DISPATCHER = "pekko.test.calling-thread-dispatcher";

    @Override
    public org.apache.pekko.actor.Cancellable scheduleOnce(FiniteDuration delay, Runnable runnable,
            ExecutionContext executor) {
        Task task = new Task();
        task.current = clock.schedule(delay.toNanos(), () -> {
            if (!task.cancelled) {
                task.done = true;
                executor.execute(runnable);
            }
        });
        return task;
    }

    @Override
    public org.apache.pekko.actor.Cancellable schedule(FiniteDuration initialDelay, FiniteDuration interval,
            Runnable runnable, ExecutionContext executor) {
        Task task = new Task();
        repeat(task, initialDelay.toNanos(), Math.max(1, interval.toNanos()), runnable, executor);
        return task;
    }

    private void repeat(Task task, long delayNanos, long intervalNanos, Runnable runnable, ExecutionContext executor) {
        task.current = clock.schedule(delayNanos, () -> {
            if (!task.cancelled) {
                repeat(task, intervalNanos, intervalNanos, runnable, executor);
                executor.execute(runnable);
            }
        });
    }

    @Override
    public double maxFrequency() {
        return 1e9;
    }

    private static final class Task implements org.apache.pekko.actor.Cancellable {
        volatile Cancellable current;
        volatile boolean cancelled;
        volatile boolean done;

        @Override
        public boolean cancel() {
            if (cancelled || done) {
                return false;
            }
            cancelled = true;
            Cancellable scheduled = current;
            if (scheduled != null) {
                scheduled.cancel();
            }
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }
    }
}
