package io.meshwork.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiscreteEventSchedulerTest {

    private final DiscreteEventScheduler scheduler = new DiscreteEventScheduler(1);
    private final List<String> ran = new ArrayList<>();

    @Test
    void tasksRunByDueTimeThenByOrderOfScheduling() {
        scheduler.schedule(Duration.ofMillis(20), () -> ran.add("c@" + scheduler.now().toMillis()));
        scheduler.schedule(Duration.ofMillis(10), () -> ran.add("a@" + scheduler.now().toMillis()));
        scheduler.schedule(Duration.ofMillis(10), () -> ran.add("b@" + scheduler.now().toMillis()));
        scheduler.advance(Duration.ofMillis(30));
        assertEquals(List.of("a@10", "b@10", "c@20"), ran);
        assertEquals(Duration.ofMillis(30), scheduler.now());
    }

    @Test
    void advanceRunsOnlyWhatIsDueAndTasksMayScheduleMore() {
        scheduler.schedule(Duration.ofMillis(5), () -> {
            ran.add("first");
            scheduler.schedule(Duration.ofMillis(5), () -> ran.add("chained"));
            scheduler.schedule(Duration.ofMillis(50), () -> ran.add("late"));
        });
        scheduler.advance(Duration.ofMillis(10));
        assertEquals(List.of("first", "chained"), ran);
        assertEquals(1, scheduler.pendingTasks());
        scheduler.advance(Duration.ofMillis(45));
        assertEquals(List.of("first", "chained", "late"), ran);
    }

    @Test
    void cancelledTasksNeverRun() {
        Cancellable task = scheduler.schedule(Duration.ofMillis(1), () -> ran.add("cancelled"));
        assertTrue(task.cancel());
        assertFalse(task.cancel());
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), ran);
        assertEquals(0, scheduler.executedTasks());
    }

    @Test
    void runUntilStopsTheClockAtTheTaskThatMadeTheConditionTrue() {
        for (int i = 1; i <= 5; i++) {
            int index = i;
            scheduler.schedule(Duration.ofSeconds(i), () -> ran.add("t" + index));
        }
        assertTrue(scheduler.runUntil(() -> ran.size() == 3, Duration.ofMinutes(1)));
        assertEquals(Duration.ofSeconds(3), scheduler.now());
        assertFalse(scheduler.runUntil(() -> ran.size() == 10, Duration.ofSeconds(10)));
        assertEquals(Duration.ofSeconds(13), scheduler.now());
    }

    @Test
    void runUntilIdleDrainsTheQueueAndReportsNothingDue() {
        scheduler.schedule(Duration.ofSeconds(2), () -> ran.add("late"));
        Cancellable cancelled = scheduler.schedule(Duration.ofSeconds(1), () -> ran.add("cancelled"));
        cancelled.cancel();
        assertEquals(java.util.OptionalLong.of(Duration.ofSeconds(2).toNanos()), scheduler.nextDueNanos());
        scheduler.runUntilIdle(Duration.ofMinutes(1));
        assertEquals(List.of("late"), ran);
        assertEquals(Duration.ofSeconds(2), scheduler.now());
        assertEquals(java.util.OptionalLong.empty(), scheduler.nextDueNanos());
    }

    @Test
    void aFailingTaskStopsTheDriver() {
        IllegalStateException failure = new IllegalStateException("boom");
        scheduler.schedule(0, () -> {
            throw failure;
        });
        assertSame(failure, assertThrows(IllegalStateException.class, () -> scheduler.advance(Duration.ofSeconds(1))));
    }

    @Test
    void timeCannotGoBack() {
        assertThrows(IllegalArgumentException.class, () -> scheduler.advance(Duration.ofMillis(-1)));
    }

    @Test
    void theSeedFixesTheRandomSequence() {
        assertEquals(new DiscreteEventScheduler(42).random().nextLong(),
                new DiscreteEventScheduler(42).random().nextLong());
    }
}
