package io.meshwork.simulation;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-JVM IPv4/UDP network on virtual time: the internet, private sites behind {@link NatBox}es (nested as
 * deep as wanted), hosts with {@link VirtualTransport} sockets, and {@link Link}s with latency, jitter and
 * loss. A packet moves hop by hop, each hop a task on the {@link SimScheduler}, so NAT state changes at the
 * virtual moment the packet reaches the NAT and every event of a run follows from the seed.
 *
 * <p>Routing inside a site: an address held by a host of the site goes to that host; an address that is the
 * public IP of a NAT site inside this one goes through that NAT inwards; anything else goes out through the
 * site's own NAT (looping back if it is the NAT's own address, RFC 4787 §6), and is dropped at the internet
 * when nobody holds it. Private addresses are thus reachable only from within their own site.
 */
public final class VirtualNetwork {

    private static final Logger log = LoggerFactory.getLogger(VirtualNetwork.class);

    /** Access link of a host on a private LAN. */
    public static final LinkProfile DEFAULT_LAN_LINK = LinkProfile.LAN;
    /** Access link of a host on the internet, and a NAT site's uplink. */
    public static final LinkProfile DEFAULT_WAN_LINK = LinkProfile.of(Duration.ofMillis(5));

    private final SimScheduler scheduler;
    private final Site internet;
    private final Map<String, Site> sites = new LinkedHashMap<>();
    private final Map<String, Host> hosts = new LinkedHashMap<>();
    private final List<Link> links = new ArrayList<>();
    private final List<Consumer<PacketEvent>> observers = new CopyOnWriteArrayList<>();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong droppedOnLinks = new AtomicLong();
    private final AtomicLong droppedByNats = new AtomicLong();
    private final AtomicLong droppedNoRoute = new AtomicLong();
    private final AtomicLong droppedNoSocket = new AtomicLong();
    private int natSitesCreated;
    /** The /64 of each dual-stack site (by its 64-bit prefix), and of the internet itself (prefix 0). */
    private final Map<Long, Site> ipv6Sites = new java.util.concurrent.ConcurrentHashMap<>();
    private int ipv6SitesCreated;
    private final AtomicLong droppedByFirewalls = new AtomicLong();
    /** The region of each public address placed in one ({@link #placeInRegion}). */
    private final Map<InetAddress, String> regions = new java.util.concurrent.ConcurrentHashMap<>();
    /** One-way delay between two regions, by the pair's names in order. */
    private final Map<String, Duration> regionLatencies = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The internet's IPv6 prefix, 2001:db8::/32 (RFC 3849's documentation range): the internet's own hosts are in
     * 2001:db8:0:0::/64, dual-stack site N in 2001:db8:0:N::/64.
     */
    static final long IPV6_PREFIX = 0x20010db8_00000000L;

    /** A network whose public addresses come from 198.18.0.0/15 (RFC 2544's benchmarking range). */
    public VirtualNetwork(SimScheduler scheduler) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.internet = new Site(this, "internet", null, null, null, new AddressPool("198.18.0.0/15", 1));
        sites.put(internet.name(), internet);
        internet.enableIpv6(IPV6_PREFIX, null);
        ipv6Sites.put(IPV6_PREFIX, internet);
    }

    public SimScheduler scheduler() {
        return scheduler;
    }

    public Site internet() {
        return internet;
    }

    /** Adds a host on the internet with the given addresses (dotted quads), or the next free one if none. */
    public Host addPublicHost(String name, String... addresses) {
        List<InetAddress> parsed = new ArrayList<>();
        for (String address : addresses) {
            parsed.add(AddressPool.ipv4(address));
        }
        return addHost(internet, name, parsed);
    }

    /**
     * Adds a private site behind a new NAT, its LAN numbered 10.N.0.0/16 (N counting NAT sites), its NAT's
     * public IP the next free address of {@code parent}.
     */
    public Site addNatSite(String name, NatBehavior behavior, Site parent) {
        natSitesCreated++;
        if (natSitesCreated > 255) {
            throw new IllegalStateException("out of default subnets; give the site a subnet explicitly");
        }
        return addNatSite(name, behavior, parent, "10." + natSitesCreated + ".0.0/16");
    }

    /**
     * Adds a private site behind a new NAT with its LAN numbered from {@code subnet} (such as
     * {@code 192.168.1.0/24}; sites may share a subnet, as real home LANs do).
     */
    public Site addNatSite(String name, NatBehavior behavior, Site parent, String subnet) {
        requireNewName(sites, name, "site");
        Objects.requireNonNull(behavior, "behavior");
        requireOurs(parent);
        InetAddress publicIp = parent.allocateAddress();
        NatBox nat = new NatBox(name, behavior, publicIp, scheduler);
        Link uplink = newLink("uplink of " + name, DEFAULT_WAN_LINK);
        Site site = new Site(this, name, parent, nat, uplink, new AddressPool(subnet, 2));
        parent.attachChild(publicIp, site);
        sites.put(name, site);
        return site;
    }

    /**
     * Gives {@code site} (a NAT site right below the internet) routed IPv6: a /64 of its own behind a stateful
     * firewall on its gateway ({@link Ipv6Firewall}). Hosts added to the site from now on get a global IPv6 address
     * as well as their IPv4 one.
     */
    public void enableIpv6(Site site) {
        requireOurs(site);
        if (site.isInternet() || !site.parent().orElseThrow().isInternet()) {
            throw new IllegalArgumentException(site + " is not a NAT site right below the internet");
        }
        if (site.hasIpv6()) {
            return;
        }
        ipv6SitesCreated++;
        long prefix = IPV6_PREFIX | ipv6SitesCreated;
        site.enableIpv6(prefix, new Ipv6Firewall());
        ipv6Sites.put(prefix, site);
    }

    /** Adds the next global IPv6 address of its site (which must have IPv6) to {@code host}, and returns it. */
    public InetAddress addIpv6(Host host) {
        Site site = host.site();
        if (!site.hasIpv6()) {
            throw new IllegalStateException(site + " has no IPv6");
        }
        InetAddress address = site.allocateIpv6();
        site.attach(address, host);
        host.addAddress(address);
        return address;
    }

    /** Takes every IPv6 address off {@code host}: it then has no global IPv6, as a host with IPv6 disabled. */
    public void removeIpv6(Host host) {
        for (InetAddress address : host.addresses()) {
            if (address instanceof java.net.Inet6Address) {
                host.site().detach(address);
                host.removeAddress(address);
            }
        }
    }

    /** Inbound IPv6 packets the dual-stack sites' firewalls dropped (no flow opened from inside). */
    public long droppedByFirewalls() {
        return droppedByFirewalls.get();
    }

    /** Adds a host to {@code site} with the next free address there. */
    public Host addHost(Site site, String name) {
        return addHost(site, name, List.of());
    }

    private Host addHost(Site site, String name, List<InetAddress> addresses) {
        requireNewName(hosts, name, "host");
        requireOurs(site);
        List<InetAddress> chosen = addresses.isEmpty() ? List.of(site.allocateAddress()) : addresses;
        for (InetAddress address : chosen) {
            if (site.isTaken(address)) {
                throw new IllegalArgumentException(address.getHostAddress() + " is already used in " + site);
            }
        }
        Link link = newLink("link of " + name, site.isInternet() ? DEFAULT_WAN_LINK : DEFAULT_LAN_LINK);
        Host host = new Host(this, name, site, chosen, link);
        chosen.forEach(address -> site.attach(address, host));
        hosts.put(name, host);
        if (site.hasIpv6() && !site.isInternet()) {
            addIpv6(host);
        }
        return host;
    }

    /**
     * Moves {@code host} to {@code destination} with the next free address there, as a laptop changing
     * networks: sockets bound to all addresses keep their ports and now send from the new address.
     */
    public void moveHost(Host host, Site destination) {
        requireOurs(destination);
        if (host.addresses().size() != 1 || host.hasAddressBoundSockets()) {
            throw new IllegalStateException(host.name() + " has several addresses or address-bound sockets;"
                    + " only single-address hosts move");
        }
        Site origin = host.site();
        InetAddress newAddress = destination.allocateAddress();
        origin.detach(host.address());
        destination.attach(newAddress, host);
        host.relocate(destination, newAddress);
        log.debug("{} moved from {} to {}", host.name(), origin, destination);
    }

    public Site site(String name) {
        Site site = sites.get(name);
        if (site == null) {
            throw new IllegalArgumentException("no site " + name);
        }
        return site;
    }

    public Host host(String name) {
        Host host = hosts.get(name);
        if (host == null) {
            throw new IllegalArgumentException("no host " + name);
        }
        return host;
    }

    /**
     * Puts {@code host} (a host on the internet) in {@code region}: packets between it and public addresses of
     * another region take that pair's {@link #setRegionLatency latency} more on the internet.
     */
    public void placeInRegion(Host host, String region) {
        if (!host.site().isInternet()) {
            throw new IllegalArgumentException(host.name() + " is not on the internet; place its site instead");
        }
        host.addresses().forEach(address -> regions.put(address, Objects.requireNonNull(region, "region")));
    }

    /** Puts {@code site} (a NAT site, at any depth) in {@code region}: its outermost NAT's public address. */
    public void placeInRegion(Site site, String region) {
        Site outermost = site;
        while (outermost.parent().isPresent() && !outermost.parent().get().isInternet()) {
            outermost = outermost.parent().get();
        }
        regions.put(outermost.requireNat().publicIp(), Objects.requireNonNull(region, "region"));
    }

    /** The one-way delay a packet takes more between {@code a} and {@code b} (either way); zero by default. */
    public void setRegionLatency(String a, String b, Duration oneWay) {
        if (oneWay.isNegative()) {
            throw new IllegalArgumentException("latency cannot be negative");
        }
        regionLatencies.put(regionPair(a, b), oneWay);
    }

    /**
     * The delay the internet adds between public addresses {@code from} and {@code to}: their regions' latency,
     * zero when either is in no region or the pair has none.
     */
    public Duration regionDelay(InetAddress from, InetAddress to) {
        String a = from == null ? null : regions.get(from);
        String b = to == null ? null : regions.get(to);
        if (a == null || b == null) {
            return Duration.ZERO;
        }
        return regionLatencies.getOrDefault(regionPair(a, b), Duration.ZERO);
    }

    private static String regionPair(String a, String b) {
        return a.compareTo(b) <= 0 ? a + "|" + b : b + "|" + a;
    }

    /** Every link of the network, hosts' access links and sites' uplinks, in order of creation. */
    public List<Link> links() {
        return List.copyOf(links);
    }

    /** Calls {@code observer} on the driving thread at the end of every packet's journey. */
    public void addObserver(Consumer<PacketEvent> observer) {
        observers.add(Objects.requireNonNull(observer, "observer"));
    }

    public NetworkCounters counters() {
        return new NetworkCounters(delivered.get(), droppedOnLinks.get(), droppedByNats.get(), droppedNoRoute.get(),
                droppedNoSocket.get());
    }

    /** Puts a packet a socket sent onto its host's access link, on the driving thread. */
    void transmit(VirtualTransport from, Packet packet) {
        scheduler.schedule(0, () -> {
            Host host = from.host();
            Site site = host.site();
            cross(host.link(), packet, arrived -> arriveFromBelow(site, arrived));
        });
    }

    /** A packet coming up into {@code site}: on the internet it first crosses the distance between regions. */
    private void arriveFromBelow(Site site, Packet packet) {
        if (site.isInternet()) {
            long extra = regionDelay(packet.source().getAddress(), packet.destination().getAddress()).toNanos();
            if (extra > 0) {
                scheduler.schedule(extra, () -> arriveInSite(site, packet));
                return;
            }
        }
        arriveInSite(site, packet);
    }

    private void cross(Link link, Packet packet, Consumer<Packet> next) {
        long transit = link.transitNanos(scheduler.random());
        if (transit < 0) {
            droppedOnLinks.incrementAndGet();
            dropped(packet, link.name(), link.isUp() ? "lost" : "link down");
            return;
        }
        scheduler.schedule(transit, () -> next.accept(packet));
    }

    private void arriveInSite(Site site, Packet packet) {
        InetAddress destination = packet.destination().getAddress();
        if (destination == null) {
            droppedNoRoute.incrementAndGet();
            dropped(packet, site.name(), "unresolved destination");
            return;
        }
        Host host = site.hostAt(destination);
        if (host != null) {
            cross(host.link(), packet, arrived -> arriveAtHost(host, arrived));
            return;
        }
        if (destination instanceof java.net.Inet6Address) {
            routeIpv6(site, packet);
            return;
        }
        Site inner = site.childSiteAt(destination);
        if (inner != null) {
            cross(inner.uplink(), packet, arrived -> enterThroughNat(inner, arrived));
            return;
        }
        if (site.isInternet()) {
            droppedNoRoute.incrementAndGet();
            dropped(packet, site.name(), "no route");
            return;
        }
        leaveThroughNat(site, packet);
    }

    /**
     * IPv6 is routed, never translated: on the internet a packet goes down to the dual-stack site whose /64 holds
     * its destination, through that site's firewall; inside a dual-stack site it goes up to the internet, opening a
     * flow on the firewall. Sites without IPv6 have no route for it.
     */
    private void routeIpv6(Site site, Packet packet) {
        if (site.isInternet()) {
            Site inner = ipv6Sites.get(prefix64(packet.destination().getAddress()));
            if (inner == null || inner.isInternet()) {
                droppedNoRoute.incrementAndGet();
                dropped(packet, site.name(), "no IPv6 route");
                return;
            }
            cross(inner.uplink(), packet, arrived -> {
                if (inner.ipv6Firewall().admits(arrived, scheduler.nowNanos())) {
                    arriveInSite(inner, arrived);
                } else {
                    droppedByFirewalls.incrementAndGet();
                    dropped(arrived, "IPv6 firewall of " + inner.name(), "no flow opened from inside");
                }
            });
            return;
        }
        if (!site.hasIpv6() || !(packet.source().getAddress() instanceof java.net.Inet6Address)) {
            droppedNoRoute.incrementAndGet();
            dropped(packet, site.name(), "no IPv6 route");
            return;
        }
        site.ipv6Firewall().outbound(packet, scheduler.nowNanos());
        Site parent = site.parent().orElseThrow();
        cross(site.uplink(), packet, arrived -> arriveFromBelow(parent, arrived));
    }

    private static long prefix64(InetAddress address) {
        return java.nio.ByteBuffer.wrap(address.getAddress()).getLong();
    }

    private void leaveThroughNat(Site site, Packet packet) {
        NatBox nat = site.requireNat();
        NatBox.Translation out = nat.outbound(packet);
        if (!(out instanceof NatBox.Translated translated)) {
            natDropped(nat, packet, out);
            return;
        }
        if (nat.publicIp().equals(packet.destination().getAddress())) {
            NatBox.Translation back = nat.hairpin(translated.packet());
            if (back instanceof NatBox.Translated inside) {
                arriveInSite(site, inside.packet());
            } else {
                natDropped(nat, translated.packet(), back);
            }
            return;
        }
        Site parent = site.parent().orElseThrow();
        Packet onward = translated.packet();
        if (parent.isInternet()) {
            // The provider's router between the site and the rest of the internet: one more hop.
            if (onward.ttl() <= 1) {
                dropped(onward, site.name() + "'s provider router", "time to live exceeded");
                return;
            }
            onward = onward.forwarded();
        }
        cross(site.uplink(), onward, arrived -> arriveFromBelow(parent, arrived));
    }

    private void enterThroughNat(Site site, Packet packet) {
        NatBox nat = site.requireNat();
        NatBox.Translation in = nat.inbound(packet);
        if (in instanceof NatBox.Translated translated) {
            arriveInSite(site, translated.packet());
        } else {
            natDropped(nat, packet, in);
        }
    }

    private void arriveAtHost(Host host, Packet packet) {
        if (!host.addresses().contains(packet.destination().getAddress())) {
            // The host moved away while the packet was on its access link.
            droppedNoRoute.incrementAndGet();
            dropped(packet, host.name(), "host no longer at this address");
            return;
        }
        VirtualTransport socket = host.socketFor(packet.destination());
        int length = packet.payload().length;
        if (socket == null || !socket.deliver(packet.payload(), packet.source())) {
            droppedNoSocket.incrementAndGet();
            report(new PacketEvent(scheduler.nowNanos(), PacketEvent.Outcome.DROPPED, packet.source(),
                    packet.destination(), length, host.name(), socket == null ? "no socket" : "not handled"));
            return;
        }
        delivered.incrementAndGet();
        report(new PacketEvent(scheduler.nowNanos(), PacketEvent.Outcome.DELIVERED, packet.source(),
                packet.destination(), length, host.name(), ""));
    }

    private void natDropped(NatBox nat, Packet packet, NatBox.Translation outcome) {
        droppedByNats.incrementAndGet();
        String reason = outcome instanceof NatBox.Dropped drop ? drop.reason().toString() : outcome.toString();
        dropped(packet, "NAT " + nat.name(), reason);
    }

    private void dropped(Packet packet, String where, String why) {
        log.debug("dropped {} -> {} at {}: {}", packet.source(), packet.destination(), where, why);
        report(new PacketEvent(scheduler.nowNanos(), PacketEvent.Outcome.DROPPED, packet.source(),
                packet.destination(), packet.payload().length, where, why));
    }

    private void report(PacketEvent event) {
        for (Consumer<PacketEvent> observer : observers) {
            observer.accept(event);
        }
    }

    private Link newLink(String name, LinkProfile profile) {
        Link link = new Link(name, profile);
        links.add(link);
        return link;
    }

    private void requireOurs(Site site) {
        if (sites.get(site.name()) != site) {
            throw new IllegalArgumentException(site + " belongs to another network");
        }
    }

    private static void requireNewName(Map<String, ?> existing, String name, String what) {
        Objects.requireNonNull(name, what + " name");
        if (existing.containsKey(name)) {
            throw new IllegalArgumentException("a " + what + " named " + name + " already exists");
        }
    }
}
