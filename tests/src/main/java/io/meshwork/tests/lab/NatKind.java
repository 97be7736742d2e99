package io.meshwork.tests.lab;

import java.util.List;

/**
 * The NAT behaviours a lab gateway can be given with iptables (design §6, RFC 4787 terms).
 *
 * <p>Linux conntrack gives endpoint-independent mapping with address-and-port-dependent filtering for plain
 * {@code MASQUERADE}; {@code --random-fully} picks a fresh random port per destination, which makes the mapping
 * address-and-port-dependent ("symmetric"). Full-cone and restricted-cone NATs cannot be made with stock
 * iptables; the in-JVM simulation covers those.
 */
public enum NatKind {
    /** Port-restricted cone: endpoint-independent mapping, address-and-port-dependent filtering. */
    ENDPOINT_INDEPENDENT(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE")),
    /** Symmetric: a new random external port for every destination. */
    SYMMETRIC(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE", "--random-fully")),
    /** Endpoint-independent NAT that drops all UDP between the LAN and the internet (TCP still passes). */
    UDP_BLOCKED(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE"),
            List.of("-A", "FORWARD", "-o", "eth0", "-p", "udp", "-j", "DROP"),
            List.of("-A", "FORWARD", "-i", "eth0", "-p", "udp", "-j", "DROP"));

    private final List<List<String>> iptablesRules;

    @SafeVarargs
    NatKind(List<String>... iptablesRules) {
        this.iptablesRules = List.of(iptablesRules);
    }

    /** The iptables arguments (after {@code iptables}) that give a gateway this behaviour. */
    public List<List<String>> iptablesRules() {
        return iptablesRules;
    }
}
