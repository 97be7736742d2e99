package io.meshwork.protocol.path;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Which ports of a symmetric NAT's public IP to probe (pure, bounded). A NAT that makes a new mapping per
 * destination still picks ports in a pattern: it keeps the inside port when it can (port preservation),
 * or counts up from the last one it gave out (sequential allocation, the ports STUN saw), or picks at random.
 * The guesses cover those in that order: the inside port, the ports just above the highest observed one, then
 * random ports of the dynamic range, which only pay off by chance (budget / 64512 per attempt).
 */
public final class PortPrediction {

    private static final int LOWEST = 1024;
    private static final int HIGHEST = 65535;

    private PortPrediction() {}

    /**
     * @param insidePort    the peer's local port, or 0 when unknown
     * @param observedPorts ports STUN servers saw the peer's NAT use
     * @param budget        how many ports to return at most
     */
    public static List<Integer> guesses(int insidePort, Collection<Integer> observedPorts, int budget, Random random) {
        Set<Integer> ports = new LinkedHashSet<>();
        if (insidePort > 0) {
            ports.add(insidePort);
        }
        int highest = observedPorts.stream().mapToInt(Integer::intValue).max().orElse(0);
        if (highest > 0) {
            int sequential = budget * 3 / 4;
            for (int port = highest + 1; port <= HIGHEST && ports.size() < Math.min(budget, sequential + 1); port++) {
                ports.add(port);
            }
        }
        int attempts = 0;
        while (ports.size() < budget && attempts++ < budget * 8) {
            ports.add(LOWEST + random.nextInt(HIGHEST - LOWEST + 1));
        }
        return List.copyOf(ports);
    }
}
