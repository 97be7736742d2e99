package io.meshwork.lab;

import java.util.List;

/**
 * The NAT behaviours a lab gateway can be given with iptables (docs/architecture.md, "Simulation and lab", RFC 4787
 * terms).
 *
 * <p>Linux conntrack gives endpoint-independent mapping with address-and-port-dependent filtering for plain
 * {@code MASQUERADE}; {@code --random-fully} picks a fresh random port per destination, which makes the mapping
 * address-and-port-dependent ("symmetric"). Full-cone and restricted-cone NATs cannot be made with stock
 * iptables; the in-JVM simulation covers those.
 *
 * <p>Every gateway but {@link #INPUT_ACCEPTING} also drops new connections addressed to itself from the internet, as
 * home routers do. Without that, an unsolicited packet to a mapped port is delivered locally and leaves a conntrack
 * entry that collides with the host's own later mapping towards the same peer, so Linux picks another port: the
 * conntrack collision, which {@link #INPUT_ACCEPTING} reproduces on purpose.
 */
public enum NatKind {
    /** Port-restricted cone: endpoint-independent mapping, address-and-port-dependent filtering. */
    ENDPOINT_INDEPENDENT(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE"), Rules.DROP_NEW_INPUT),
    /** Symmetric: a new random external port for every destination. */
    SYMMETRIC(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE", "--random-fully"),
            Rules.DROP_NEW_INPUT),
    /** Endpoint-independent NAT that drops all UDP between the LAN and the internet (TCP still passes). */
    UDP_BLOCKED(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE"),
            List.of("-A", "FORWARD", "-o", "eth0", "-p", "udp", "-j", "DROP"),
            List.of("-A", "FORWARD", "-i", "eth0", "-p", "udp", "-j", "DROP"), Rules.DROP_NEW_INPUT),
    /**
     * Endpoint-independent mapping on a gateway whose INPUT chain accepts everything (a stock Linux router without a
     * firewall, a Docker or VM host, a cloud NAT instance): an unsolicited probe to a mapped port is delivered to
     * the gateway itself and its conntrack entry makes the host's own first packet to that peer leave from another
     * port. Such a gateway reaches the internet through a provider router of its own ({@link Lab#site}), one hop
     * that a TTL-limited packet from its LAN does not pass.
     */
    INPUT_ACCEPTING(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE"));

    private final List<List<String>> iptablesRules;

    @SafeVarargs
    NatKind(List<String>... iptablesRules) {
        this.iptablesRules = List.of(iptablesRules);
    }

    /** Whether the gateway sits behind a provider router of its own rather than on the internet bridge. */
    public boolean behindProviderRouter() {
        return this == INPUT_ACCEPTING;
    }

    /** The iptables arguments (after {@code iptables}) that give a gateway this behaviour. */
    public List<List<String>> iptablesRules() {
        return iptablesRules;
    }

    /** Rules shared by several kinds (a holder class, since enum constants cannot use the enum's own statics). */
    private static final class Rules {
        static final List<String> DROP_NEW_INPUT =
                List.of("-A", "INPUT", "-i", "eth0", "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP");
    }
}
