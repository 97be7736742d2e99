package io.meshwork.node.portmap;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The IPv4 default route's gateway, read from {@code /proc/net/route} (docs/architecture.md, "Port mapping"): the
 * router a node asks for a port mapping. Of several default routes the one with the lowest metric wins.
 */
public final class DefaultGateway {

    private static final Logger log = LoggerFactory.getLogger(DefaultGateway.class);
    private static final Path ROUTES = Path.of("/proc/net/route");
    /** RTF_UP | RTF_GATEWAY */
    private static final int UP_GATEWAY = 0x3;
    /** The file has a line per route; a host with more than this is not one a node runs on. */
    private static final int MAX_LINES = 10_000;

    private DefaultGateway() {}

    /** This host's default gateway; empty without one (or off Linux). */
    public static Optional<InetAddress> read() {
        try {
            return parse(Files.readString(ROUTES));
        } catch (IOException e) {
            log.debug("cannot read {}: {}", ROUTES, e.toString());
            return Optional.empty();
        }
    }

    /**
     * The gateway of the best default route in the text of {@code /proc/net/route}: columns Iface, Destination,
     * Gateway, Flags, RefCnt, Use, Metric, Mask..., addresses as little-endian hex.
     */
    static Optional<InetAddress> parse(String routes) {
        InetAddress best = null;
        long bestMetric = Long.MAX_VALUE;
        String[] lines = routes.split("\n", MAX_LINES);
        for (int i = 1; i < lines.length; i++) {
            String[] fields = lines[i].trim().split("\\s+");
            if (fields.length < 8) {
                continue;
            }
            try {
                int flags = Integer.parseInt(fields[3], 16);
                if (!fields[1].equals("00000000") || !fields[7].equals("00000000")
                        || (flags & UP_GATEWAY) != UP_GATEWAY) {
                    continue;
                }
                long metric = Long.parseLong(fields[6]);
                long gateway = Long.parseLong(fields[2], 16);
                if (gateway != 0 && metric < bestMetric) {
                    best = InetAddress.getByAddress(new byte[] {(byte) gateway, (byte) (gateway >> 8),
                        (byte) (gateway >> 16), (byte) (gateway >> 24)});
                    bestMetric = metric;
                }
            } catch (NumberFormatException | UnknownHostException e) {
                log.debug("ignoring route line '{}': {}", lines[i], e.toString());
            }
        }
        return Optional.ofNullable(best);
    }
}
