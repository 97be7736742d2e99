package io.meshwork.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class VirtualTimeExecutorTest {

    private final DiscreteEventScheduler scheduler = new DiscreteEventScheduler(1);
    private final VirtualTimeExecutor executor = new VirtualTimeExecutor(scheduler);
    private final List<Long> runsAtMillis = new ArrayList<>();

    private void record() {
        runsAtMillis.add(scheduler.now().toMillis());
    }

    @Test
    void delayedTasksRunOnVirtualTimeAndReportTheirResult() throws Exception {
        ScheduledFuture<String> future = executor.schedule(() -> "done", 250, TimeUnit.MILLISECONDS);
        assertEquals(250, future.getDelay(TimeUnit.MILLISECONDS));
        scheduler.advance(Duration.ofMillis(249));
        assertFalse(future.isDone());
        scheduler.advance(Duration.ofMillis(1));
        assertEquals("done", future.get());
    }

    @Test
    void cancelledTasksDoNotRun() {
        ScheduledFuture<?> future = executor.schedule(this::record, 1, TimeUnit.SECONDS);
        assertTrue(future.cancel(false));
        scheduler.advance(Duration.ofSeconds(2));
        assertEquals(List.of(), runsAtMillis);
        assertTrue(future.isCancelled());
    }

    @Test
    void fixedRateAndFixedDelayRepeatUntilCancelled() {
        ScheduledFuture<?> rate = executor.scheduleAtFixedRate(this::record, 100, 300, TimeUnit.MILLISECONDS);
        scheduler.advance(Duration.ofMillis(1000));
        assertEquals(List.of(100L, 400L, 700L, 1000L), runsAtMillis);
        rate.cancel(false);
        runsAtMillis.clear();
        executor.scheduleWithFixedDelay(this::record, 0, 500, TimeUnit.MILLISECONDS);
        scheduler.advance(Duration.ofMillis(1000));
        assertEquals(List.of(1000L, 1500L, 2000L), runsAtMillis);
    }

    @Test
    void aFailingTaskFailsItsFutureNotTheDriver() {
        ScheduledFuture<?> future = executor.schedule(() -> {
            throw new IllegalStateException("boom");
        }, 1, TimeUnit.MILLISECONDS);
        scheduler.advance(Duration.ofMillis(1));
        assertTrue(future.isDone());
        assertThrows(java.util.concurrent.ExecutionException.class, future::get);
    }

    @Test
    void shutdownRefusesNewTasksAndStopsPeriodicOnes() {
        executor.scheduleAtFixedRate(this::record, 0, 100, TimeUnit.MILLISECONDS);
        scheduler.advance(Duration.ofMillis(150));
        executor.shutdown();
        scheduler.advance(Duration.ofMillis(500));
        assertEquals(List.of(0L, 100L), runsAtMillis);
        assertThrows(RejectedExecutionException.class, () -> executor.execute(this::record));
    }
}
