package io.meshwork.node.filter;

import io.meshwork.protocol.api.PolicyRule;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

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
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

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
        int slash = prefix.indexOf('/');
        String ip = slash < 0 ? prefix : prefix.substring(0, slash);
        byte[] bytes = literal(ip);
        int bits = bytes.length * 8;
        int length;
        try {
            length = slash < 0 ? bits : Integer.parseInt(prefix.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new PolicyException("bad prefix length in " + prefix);
        }
        if (length < 0 || length > bits) {
            throw new PolicyException("prefix length out of range in " + prefix);
        }
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
     * The address bytes of an IP literal, never a name look-up (a text with a colon is an IPv6 literal to the JDK);
     * an IPv4-mapped IPv6 literal stays 16 bytes.
     */
    private static byte[] literal(String ip) throws PolicyException {
        if (IPV4.matcher(ip).matches()) {
            // Parsed here: the JDK would take an out-of-range dotted quad for a host name and look it up.
            byte[] bytes = new byte[4];
            String[] octets = ip.split("\\.");
            for (int i = 0; i < 4; i++) {
                int octet = Integer.parseInt(octets[i]);
                if (octet > 255) {
                    throw new PolicyException("not an IP prefix: " + ip);
                }
                bytes[i] = (byte) octet;
            }
            return bytes;
        }
        if (!IPV6.matcher(ip).matches()) {
            throw new PolicyException("not an IP prefix: " + ip);
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(ip).getAddress();
        } catch (UnknownHostException e) {
            throw new PolicyException("not an IP prefix: " + ip);
        }
        if (bytes.length == 4) {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xFF;
            mapped[11] = (byte) 0xFF;
            System.arraycopy(bytes, 0, mapped, 12, 4);
            return mapped;
        }
        return bytes;
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
