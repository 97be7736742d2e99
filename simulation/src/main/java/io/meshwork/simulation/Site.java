package io.meshwork.simulation;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One address space of the virtual network: the internet (the root), or a private LAN behind a
 * {@link NatBox} whose public side lives in the parent site. NAT sites nest, so a home LAN can sit behind a
 * carrier-grade NAT. Hosts in one site reach each other directly by their addresses in it.
 */
public final class Site {

    private final VirtualNetwork network;
    private final String name;
    private final Site parent;
    private final NatBox nat;
    private final Link uplink;
    private final AddressPool pool;
    private final Map<InetAddress, Host> hosts = new LinkedHashMap<>();
    private final Map<InetAddress, Site> childSitesByPublicIp = new LinkedHashMap<>();

    /** The site's IPv6 /64 as its first 64 bits, when it has IPv6. */
    private Long ipv6Prefix;
    private Ipv6Firewall ipv6Firewall;
    private long ipv6HostsAllocated;

    Site(VirtualNetwork network, String name, Site parent, NatBox nat, Link uplink, AddressPool pool) {
        this.network = network;
        this.name = name;
        this.parent = parent;
        this.nat = nat;
        this.uplink = uplink;
        this.pool = pool;
    }

    public String name() {
        return name;
    }

    /** The site this one's NAT faces; empty for the internet. */
    public Optional<Site> parent() {
        return Optional.ofNullable(parent);
    }

    /** The NAT in front of this site; empty for the internet. */
    public Optional<NatBox> nat() {
        return Optional.ofNullable(nat);
    }

    /** The NAT in front of this site; throws for the internet, which has none. */
    public NatBox requireNat() {
        if (nat == null) {
            throw new IllegalStateException(name + " has no NAT");
        }
        return nat;
    }

    /** The link between this site's NAT and the parent site. */
    public Link uplink() {
        if (uplink == null) {
            throw new IllegalStateException("the internet has no uplink");
        }
        return uplink;
    }

    public boolean isInternet() {
        return parent == null;
    }

    /** Adds a host with the next free address of this site. */
    public Host addHost(String hostName) {
        return network.addHost(this, hostName);
    }

    /** Adds a private site behind a new NAT with {@code behavior}, whose public IP is taken from this site. */
    public Site addNatSite(String siteName, NatBehavior behavior) {
        return network.addNatSite(siteName, behavior, this);
    }

    public List<Host> hosts() {
        return List.copyOf(hosts.values());
    }

    @Override
    public String toString() {
        return name;
    }

    /** Whether the site has routed IPv6 (the internet and dual-stack sites). */
    public boolean hasIpv6() {
        return ipv6Prefix != null;
    }

    void enableIpv6(long prefix, Ipv6Firewall firewall) {
        this.ipv6Prefix = prefix;
        this.ipv6Firewall = firewall;
    }

    Ipv6Firewall ipv6Firewall() {
        return ipv6Firewall;
    }

    InetAddress allocateIpv6() {
        byte[] bytes = java.nio.ByteBuffer.allocate(16).putLong(ipv6Prefix).putLong(++ipv6HostsAllocated).array();
        try {
            return InetAddress.getByAddress(bytes);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    Host hostAt(InetAddress address) {
        return hosts.get(address);
    }

    Site childSiteAt(InetAddress address) {
        return childSitesByPublicIp.get(address);
    }

    boolean isTaken(InetAddress address) {
        return hosts.containsKey(address) || childSitesByPublicIp.containsKey(address);
    }

    InetAddress allocateAddress() {
        return pool.allocate(this::isTaken);
    }

    void attach(InetAddress address, Host host) {
        if (isTaken(address)) {
            throw new IllegalArgumentException(address.getHostAddress() + " is already used in " + name);
        }
        hosts.put(address, host);
    }

    void detach(InetAddress address) {
        hosts.remove(address);
    }

    void attachChild(InetAddress publicIp, Site child) {
        if (isTaken(publicIp)) {
            throw new IllegalArgumentException(publicIp.getHostAddress() + " is already used in " + name);
        }
        childSitesByPublicIp.put(publicIp, child);
    }
}
