package io.meshwork.node.netcheck;

import io.meshwork.protocol.nat.NatReport;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of one {@link NatProber#probe} run: the classification and the evidence behind it.
 *
 * @param localEndpoints the probing socket's addresses, as used to decide "no NAT"
 * @param servers one entry per configured server, in the order given
 * @param elapsed how long the whole probe took
 */
public record NetcheckResult(NatReport report, List<InetSocketAddress> localEndpoints, List<ServerProbe> servers,
        Duration elapsed) {

    public NetcheckResult {
        Objects.requireNonNull(report, "report");
        localEndpoints = List.copyOf(localEndpoints);
        servers = List.copyOf(servers);
        Objects.requireNonNull(elapsed, "elapsed");
    }
}
