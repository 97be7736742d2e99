package io.meshwork.node.filter;

import io.meshwork.protocol.api.PolicyRule;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.net.Prefix;
import java.util.Arrays;
import java.util.List;

/**
 * The allow rules of a policy compiled into a binary trie over source addresses, one root per IP version. A rule's
 * service (protocols and port range) hangs on the node of each of its peer prefixes, so deciding a packet is one
 * walk down its source address, checking the services met on the way. Immutable once built; lookups don't
 * allocate.
 */
final class SourceRules {

    static final int TCP = 1;
    static final int UDP = 1 << 1;
    static final int ICMP = 1 << 2;
    static final int OTHER = 1 << 3;
    private static final int EVERY_PROTOCOL = TCP | UDP | ICMP | OTHER;
    private static final long[] NONE = new long[0];

    private int[] zero = new int[64];
    private int[] one = new int[64];
    /** Per node: services as {@code protocols << 32 | fromPort << 16 | toPort}. */
    private long[][] services = new long[64][];
    private int nodes = 2;

    private SourceRules() {
        services[0] = NONE;
        services[1] = NONE;
    }

    /** No rule: nothing is allowed by source. */
    static SourceRules none() {
        return new SourceRules();
    }

    static SourceRules compile(List<PolicyRule> rules) throws PolicyException {
        SourceRules compiled = new SourceRules();
        if (rules == null) {
            return compiled;
        }
        for (PolicyRule rule : rules) {
            if (rule == null) {
                throw new PolicyException("a null rule");
            }
            long service = service(rule);
            if (rule.peers() == null) {
                throw new PolicyException("a rule without peers");
            }
            for (String peer : rule.peers()) {
                compiled.add(peer, service);
            }
        }
        return compiled;
    }

    private static long service(PolicyRule rule) throws PolicyException {
        int protocols;
        if (rule.protocol() == null) {
            throw new PolicyException("a rule without protocol");
        }
        switch (rule.protocol()) {
            case PolicyRule.TCP -> protocols = TCP;
            case PolicyRule.UDP -> protocols = UDP;
            case PolicyRule.ICMP -> protocols = ICMP;
            case PolicyRule.ANY -> protocols = EVERY_PROTOCOL;
            default -> throw new PolicyException("unknown protocol " + rule.protocol());
        }
        if (rule.fromPort() < 0 || rule.toPort() > 65535 || rule.fromPort() > rule.toPort()) {
            throw new PolicyException("bad port range " + rule.fromPort() + "-" + rule.toPort());
        }
        return (long) protocols << 32 | (long) rule.fromPort() << 16 | rule.toPort();
    }

    private void add(String prefix, long service) throws PolicyException {
        if (prefix == null) {
            throw new PolicyException("a null peer prefix");
        }
        Prefix parsed;
        try {
            parsed = Prefix.parseAddressOrPrefix(prefix);
        } catch (InvalidAddressException e) {
            throw new PolicyException(e.getMessage());
        }
        byte[] bytes = parsed.address().getAddress();
        int length = parsed.length();
        int node = bytes.length == 4 ? 0 : 1;
        for (int bit = 0; bit < length; bit++) {
            int value = (bytes[bit / 8] >>> (7 - bit % 8)) & 1;
            int child = value == 0 ? zero[node] : one[node];
            if (child == 0) {
                // newNode() may grow the arrays: store into them only after it returns.
                child = newNode();
                (value == 0 ? zero : one)[node] = child;
            }
            node = child;
        }
        long[] existing = services[node];
        long[] grown = Arrays.copyOf(existing, existing.length + 1);
        grown[existing.length] = service;
        services[node] = grown;
    }

    private int newNode() {
        if (nodes == zero.length) {
            zero = Arrays.copyOf(zero, nodes * 2);
            one = Arrays.copyOf(one, nodes * 2);
            services = Arrays.copyOf(services, nodes * 2);
        }
        services[nodes] = NONE;
        return nodes++;
    }

    /**
     * Whether some rule lets this packet in by its source, protocol and destination port. A later fragment has no
     * port, so only rules for every port (or without ports: icmp, any) can let it in.
     */
    boolean allows(PacketHeaders packet) {
        int protocol;
        if (packet.protocol == PacketHeaders.TCP) {
            protocol = TCP;
        } else if (packet.protocol == PacketHeaders.UDP) {
            protocol = UDP;
        } else if (packet.isIcmp()) {
            protocol = ICMP;
        } else {
            protocol = OTHER;
        }
        boolean ported = protocol == TCP || protocol == UDP;
        int port = packet.destinationPort;
        int bits = packet.version == 4 ? 32 : 128;
        int node = packet.version == 4 ? 0 : 1;
        for (int bit = 0; ; bit++) {
            for (long service : services[node]) {
                if (((service >>> 32) & protocol) != 0 && (!ported || inRange(service, port))) {
                    return true;
                }
            }
            if (bit == bits) {
                return false;
            }
            long word = bit < 64 ? packet.sourceHigh : packet.sourceLow;
            int value = (int) (word >>> (63 - bit % 64)) & 1;
            node = value == 0 ? zero[node] : one[node];
            if (node == 0) {
                return false;
            }
        }
    }

    private static boolean inRange(long service, int port) {
        int from = (int) (service >>> 16) & 0xFFFF;
        int to = (int) service & 0xFFFF;
        if (port == PacketHeaders.NO_PORT) {
            return from == 0 && to == 65535;
        }
        return port >= from && port <= to;
    }
}
