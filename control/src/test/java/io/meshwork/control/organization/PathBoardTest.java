package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The in-memory board of reported paths: last write wins, bounded per organization and in all, reports age out. */
class PathBoardTest {

    private static final Duration MAX_AGE = Duration.ofMinutes(3);
    private static final Duration MIN_INTERVAL = Duration.ofSeconds(5);

    private static List<PathBoard.PeerPath> direct(String peer) {
        return List.of(new PathBoard.PeerPath(peer, "direct", 3.0, null, "direct"));
    }

    private static List<String> devices(List<PathBoard.DevicePaths> reports) {
        return reports.stream().map(PathBoard.DevicePaths::deviceId).toList();
    }

    @Test
    void theLatestReportOfADeviceReplacesItsLastOne() {
        PathBoard board = new PathBoard(10, 100, MAX_AGE, MIN_INTERVAL);
        board.report("o1", "o1-a", direct("o1-b"), 1_000);
        board.report("o1", "o1-a", List.of(new PathBoard.PeerPath("o1-b", "relay", 40.0, "relay1", "why")), 7_000);
        List<PathBoard.DevicePaths> reports = board.organization("o1", 8_000);
        assertEquals(1, reports.size());
        assertEquals("relay", reports.get(0).peers().get(0).path());
        assertEquals(7_000, reports.get(0).reportedAtMillis());
        assertEquals(List.of(), board.organization("o2", 8_000), "organizations are apart");
    }

    @Test
    void aReportSoonerThanTheMinimumIntervalIsRefusedWithHowLongToWait() {
        PathBoard board = new PathBoard(10, 100, MAX_AGE, MIN_INTERVAL);
        board.report("o1", "o1-a", direct("o1-b"), 1_000);
        PathBoard.TooSoon refused = assertThrows(PathBoard.TooSoon.class,
                () -> board.report("o1", "o1-a", direct("o1-c"), 3_000));
        assertEquals(Duration.ofSeconds(3), refused.retryAfter());
        assertEquals("o1-b", board.organization("o1", 3_000).get(0).peers().get(0).peerId(), "the first report stays");
        board.report("o1", "o1-b", direct("o1-a"), 3_000);
    }

    @Test
    void anOrganizationKeepsAtMostItsBoundTheLeastRecentlyReportedGoFirst() {
        PathBoard board = new PathBoard(2, 100, MAX_AGE, MIN_INTERVAL);
        board.report("o1", "o1-a", direct("o1-b"), 1_000);
        board.report("o1", "o1-b", direct("o1-a"), 2_000);
        board.report("o1", "o1-a", direct("o1-c"), 8_000);
        board.report("o1", "o1-c", direct("o1-a"), 9_000);
        assertEquals(List.of("o1-a", "o1-c"), devices(board.organization("o1", 9_000)));
        PathBoard.Changes changes = board.changedSince("o1", 0, 9_000);
        assertEquals(List.of("o1-b"), changes.removed(), "followers hear of the eviction");
    }

    @Test
    void theBoardKeepsAtMostItsTotalAcrossOrganizations() {
        PathBoard board = new PathBoard(10, 3, MAX_AGE, MIN_INTERVAL);
        board.report("o1", "o1-a", direct("o1-b"), 1_000);
        board.report("o2", "o2-a", direct("o2-b"), 2_000);
        board.report("o3", "o3-a", direct("o3-b"), 3_000);
        board.report("o4", "o4-a", direct("o4-b"), 4_000);
        assertEquals(3, board.size());
        assertEquals(List.of(), board.organization("o1", 4_000), "the oldest report of the board went");
        assertEquals(List.of("o4-a"), devices(board.organization("o4", 4_000)));
    }

    @Test
    void reportsOlderThanTheMaximumAgeAreDropped() {
        PathBoard board = new PathBoard(10, 100, MAX_AGE, MIN_INTERVAL);
        board.report("o1", "o1-a", direct("o1-b"), 0);
        board.report("o1", "o1-b", direct("o1-a"), 60_000);
        assertEquals(List.of("o1-b"), devices(board.organization("o1", MAX_AGE.toMillis() + 1)));
        assertEquals(1, board.size());
        assertEquals(List.of("o1-a"), board.changedSince("o1", 0, MAX_AGE.toMillis() + 1).removed());
    }

    @Test
    void changedSinceAnswersExactlyWhatAFollowerHasNotSeen() {
        PathBoard board = new PathBoard(10, 100, MAX_AGE, MIN_INTERVAL);
        board.report("o1", "o1-a", direct("o1-b"), 1_000);
        PathBoard.Changes first = board.changedSince("o1", 0, 1_000);
        assertEquals(List.of("o1-a"), devices(first.devices()));
        assertTrue(board.changedSince("o1", first.sequence(), 1_500).devices().isEmpty(), "nothing new");
        board.report("o1", "o1-b", direct("o1-a"), 2_000);
        board.report("o2", "o2-a", direct("o2-b"), 2_000);
        PathBoard.Changes second = board.changedSince("o1", first.sequence(), 2_000);
        assertEquals(List.of("o1-b"), devices(second.devices()), "only this organization's new report");
    }
}
