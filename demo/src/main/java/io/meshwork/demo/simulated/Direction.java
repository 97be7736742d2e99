package io.meshwork.demo.simulated;

import io.meshwork.node.netcheck.NetcheckReportFormat;
import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.simulation.mesh.SimNode;
import java.time.Duration;
import java.util.Locale;

/** One direction of a pair of demo nodes: what {@code from}'s tunnel to {@code to} shows. */
record Direction(SimNode from, SimNode to) {

    /** The tunnel's latest status, or null before the tunnel reported one. */
    TunnelStatus status() {
        return from.statusTo(to);
    }

    /** "direct ip:port", "relay (udp)" or "relay (tcp)" (TCP when either side's UDP is blocked). */
    String path() {
        TunnelStatus status = status();
        if (status == null) {
            return "no tunnel yet";
        }
        if (status.state() == TunnelStatus.State.DIRECT) {
            return "direct " + NetcheckReportFormat.address(status.endpoint());
        }
        boolean tcp = from.relayTransport().equals("tcp") || to.relayTransport().equals("tcp");
        return "relay (" + (tcp ? "tcp" : "udp") + ")";
    }

    String latency() {
        TunnelStatus status = status();
        return status == null ? "-" : millis(status.latency());
    }

    String label() {
        return from.name() + " -> " + to.name();
    }

    static String millis(Duration duration) {
        return duration == null ? "-" : String.format(Locale.ROOT, "%.1f ms", duration.toNanos() / 1e6);
    }

    static String seconds(Duration virtualTime) {
        return String.format(Locale.ROOT, "%.3f s", virtualTime.toNanos() / 1e9);
    }
}
