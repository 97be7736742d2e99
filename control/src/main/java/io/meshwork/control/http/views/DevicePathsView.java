package io.meshwork.control.http.views;

import io.meshwork.control.organization.PathBoard;
import java.util.List;

/**
 * One device's latest path report, with how many of its peers it reaches directly, through a relay, or not yet;
 * {@code peers} is null when the listing asked for the counts only.
 */
public record DevicePathsView(String deviceId, long reportedAt, int direct, int relay, int none,
        List<PathBoard.PeerPath> peers) {

    public static DevicePathsView of(PathBoard.DevicePaths report, boolean withPeers) {
        int direct = 0;
        int relay = 0;
        int none = 0;
        for (PathBoard.PeerPath peer : report.peers()) {
            switch (peer.path()) {
                case "direct" -> direct++;
                case "relay" -> relay++;
                default -> none++;
            }
        }
        return new DevicePathsView(report.deviceId(), report.reportedAtMillis(), direct, relay, none,
                withPeers ? report.peers() : null);
    }
}
