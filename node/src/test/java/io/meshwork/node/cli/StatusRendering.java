package io.meshwork.node.cli;

import io.meshwork.node.local.NodeStatus;
import java.time.Instant;

/** {@link StatusCommand#render} for tests outside this package. */
public final class StatusRendering {

    private StatusRendering() {}

    public static String render(NodeStatus status) {
        return StatusCommand.render(status, Instant.EPOCH);
    }
}
