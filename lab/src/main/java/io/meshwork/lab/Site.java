package io.meshwork.lab;

import java.util.ArrayList;
import java.util.List;

/**
 * A private network behind a NAT gateway: the gateway namespace has a public address on the lab's
 * internet and a LAN bridge ({@code 10.S.0.1/24}); each host sits on that LAN with a default route
 * through the gateway, whose iptables rules give the NAT its {@link NatKind}.
 */
public final class Site {

    private final Lab lab;
    private final String name;
    private final NatKind kind;
    private final int index;
    private final Host gateway;
    private final List<Host> hosts = new ArrayList<>();
    private volatile boolean ipv6;

    Site(Lab lab, String name, NatKind kind, int index, Host gateway) {
        this.lab = lab;
        this.name = name;
        this.kind = kind;
        this.index = index;
        this.gateway = gateway;
    }

    public String name() {
        return name;
    }

    public NatKind kind() {
        return kind;
    }

    /** The gateway itself, to inspect conntrack or change its rules. */
    public Host gateway() {
        return gateway;
    }

    /** The gateway's address on the internet: what peers see as this site's public IP. */
    public String publicAddress() {
        return gateway.address();
    }

    /** The LAN prefix, for example {@code 10.3.0.0/24}. */
    public String lanCidr() {
        return "10." + index + ".0.0/24";
    }

    public List<Host> hosts() {
        return List.copyOf(hosts);
    }

    /** Adds a host on this site's LAN, with the next free address from {@code 10.S.0.10}. */
    public Host host(String hostName) {
        String address = "10." + index + ".0." + (10 + hosts.size());
        Host host = lab.attachToSite(this, hostName, address);
        hosts.add(host);
        return host;
    }

    /** Whether the site has a routed IPv6 /64 ({@link Lab.Ipv6#ROUTED}). */
    public boolean hasIpv6() {
        return ipv6;
    }

    /** The site's IPv6 LAN prefix, {@code 2001:db8:S::/64}, whether or not the site has IPv6. */
    public String ipv6Cidr() {
        return "2001:db8:" + index + "::/64";
    }

    void routedIpv6() {
        ipv6 = true;
    }

    /** The gateway's address on the lab's IPv6 internet. */
    String ipv6PublicAddress() {
        return "2001:db8::" + index + ":1";
    }

    String ipv6LanGatewayAddress() {
        return "2001:db8:" + index + "::1";
    }

    /** The IPv6 address of the LAN host at {@code ipv4} (same last octet), or null without IPv6. */
    String ipv6HostAddress(String ipv4) {
        return ipv6 ? "2001:db8:" + index + "::" + ipv4.substring(ipv4.lastIndexOf('.') + 1) : null;
    }

    String lanGatewayAddress() {
        return "10." + index + ".0.1";
    }

    @Override
    public String toString() {
        return name + "(" + kind + ", " + publicAddress() + ")";
    }
}
