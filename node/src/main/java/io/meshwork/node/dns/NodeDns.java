package io.meshwork.node.dns;

import io.meshwork.node.local.NodeStatus;
import io.meshwork.protocol.api.DnsConfig;
import io.meshwork.protocol.api.DnsRecord;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.dns.DnsNames;
import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.net.Prefix;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's DNS (docs/architecture.md, "Names"): its resolver on the service addresses of the mesh interface
 * ({@value DnsNames#SERVICE_IPV4} and the organization's IPv6 one), the zone it answers from, kept to the peer map
 * and to the DNS settings from control, and the host's use of it ({@link HostDns}). Started with the tunnel and
 * closed with it; the host's DNS is put back first.
 */
public final class NodeDns implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NodeDns.class);
    private static final int THREADS = 2;

    /** Runs one {@code ip} command; throws with its output when it fails. */
    public interface AddressCommand {
        void run(List<String> command) throws IOException;
    }

    /**
     * How the resolver runs.
     *
     * @param upstreams {@code --dns-upstream}, or empty for the servers the host named before
     * @param ipv6      whether the interface can have an IPv6 address
     */
    public record Settings(String interfaceName, List<InetSocketAddress> upstreams, boolean ipv6) {}

    private final EventLoopGroup group;
    private final UpstreamForwarder forwarder;
    private final DnsServer server;
    private final MeshResolver resolver;
    private final DnsStats stats;
    private final HostDns host;
    private final List<InetAddress> addresses;
    private final List<Prefix> overlay;
    private final DnsZone.Device self;
    private String domain = DnsNames.DEFAULT_DOMAIN;
    private List<DnsRecord> records = List.of();
    private Map<String, DnsZone.Device> peers = Map.of();

    private NodeDns(EventLoopGroup group, UpstreamForwarder forwarder, DnsServer server, MeshResolver resolver,
            DnsStats stats, HostDns host, List<InetAddress> addresses, List<Prefix> overlay, DnsZone.Device self) {
        this.group = group;
        this.forwarder = forwarder;
        this.server = server;
        this.resolver = resolver;
        this.stats = stats;
        this.host = host;
        this.addresses = addresses;
        this.overlay = overlay;
        this.self = self;
    }

    /**
     * Puts the service addresses on the interface, binds the resolver to them, and points the host at it.
     *
     * @param overlayPrefixes the organization's IPv4 CIDR and IPv6 ULA /64
     */
    public static NodeDns start(Settings settings, DnsZone.Device self, List<String> overlayPrefixes, HostDns host,
            AddressCommand ip) throws IOException, InterruptedException {
        host.recover();
        List<Prefix> overlay = new ArrayList<>();
        List<InetAddress> addresses = new ArrayList<>(List.of(IpLiteral.parse(DnsNames.SERVICE_IPV4)));
        for (String text : overlayPrefixes == null ? List.<String>of() : overlayPrefixes) {
            try {
                Prefix prefix = Prefix.parse(text);
                overlay.add(prefix);
                if (!prefix.isIpv4() && settings.ipv6()) {
                    addresses.add(DnsNames.serviceIpv6(prefix));
                }
            } catch (RuntimeException e) {
                log.debug("DNS: ignoring overlay prefix {}: {}", text, e.getMessage());
            }
        }
        for (InetAddress address : List.copyOf(addresses)) {
            boolean v4 = address.getAddress().length == 4;
            List<String> command = new ArrayList<>(List.of("ip", v4 ? "-4" : "-6", "addr", "replace",
                    IpLiteral.format(address) + (v4 ? "/32" : "/128"), "dev", settings.interfaceName()));
            if (!v4) {
                // Usable at once (a tentative address, under duplicate detection, cannot be bound), and deprecated:
                // never a source address. A /128 matches a peer's address longer than the /64 overlay address
                // does (RFC 6724 rule 8), so the kernel would otherwise send to peers from it, and they drop that.
                command.addAll(List.of("nodad", "preferred_lft", "0"));
            }
            try {
                ip.run(command);
            } catch (IOException e) {
                if (v4) {
                    throw e;
                }
                log.warn("DNS: the resolver answers on IPv4 only: {}", e.getMessage());
                addresses.remove(address);
            }
        }
        List<InetSocketAddress> upstreams = settings.upstreams().isEmpty() ? host.hostServers(addresses)
                : settings.upstreams();
        DnsStats stats = new DnsStats();
        EventLoopGroup group = eventLoops(THREADS);
        UpstreamForwarder forwarder = null;
        try {
            forwarder = new UpstreamForwarder(upstreams, group, stats);
            MeshResolver resolver = new MeshResolver(DnsZone.empty(DnsNames.DEFAULT_DOMAIN), forwarder, stats);
            List<InetSocketAddress> bound = addresses.stream().map(a -> new InetSocketAddress(a, 53)).toList();
            DnsServer server = DnsServer.bind(bound, group, THREADS, resolver, stats);
            NodeDns dns = new NodeDns(group, forwarder, server, resolver, stats, host, List.copyOf(addresses),
                    List.copyOf(overlay), self);
            dns.rebuild();
            host.apply(dns.domain, dns.addresses);
            log.info("DNS: resolver on {} for {}, forwarding other names to {}; host DNS: {}",
                    addresses.stream().map(IpLiteral::format).toList(), dns.domain,
                    upstreams.isEmpty() ? "nothing (no upstream)" : upstreams, host.effective());
            return dns;
        } catch (RuntimeException | InterruptedException e) {
            if (forwarder != null) {
                forwarder.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Event loops of the kind the resolver's channels are (epoll where the host has it). */
    static EventLoopGroup eventLoops(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("node-dns", true),
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /** The peer map changed: names follow it (a no-op when no name or address changed). */
    public synchronized void peers(Collection<PeerInfo> current) {
        Map<String, DnsZone.Device> next = new LinkedHashMap<>();
        for (PeerInfo peer : current) {
            if (peer != null && peer.id() != null) {
                next.put(peer.id(), DnsZone.Device.of(peer));
            }
        }
        if (!next.equals(peers)) {
            peers = next;
            rebuild();
        }
    }

    /** Control sent the organization's DNS settings. */
    public synchronized void settings(DnsConfig config) {
        if (config == null) {
            return;
        }
        String nextDomain;
        try {
            nextDomain = DnsNames.domain(config.domain());
        } catch (IllegalArgumentException e) {
            log.warn("DNS: ignoring the domain {} from control: {}", config.domain(), e.getMessage());
            nextDomain = domain;
        }
        List<DnsRecord> nextRecords = config.records() == null ? List.of()
                : config.records().stream().filter(Objects::nonNull).toList();
        boolean domainChanged = !nextDomain.equals(domain);
        domain = nextDomain;
        records = nextRecords;
        rebuild();
        if (domainChanged) {
            host.domainChanged(domain);
        }
    }

    private void rebuild() {
        List<DnsZone.Device> devices = new ArrayList<>();
        devices.add(self);
        devices.addAll(peers.values());
        resolver.zone(DnsZone.build(domain, devices, records, overlay));
    }

    /** What {@code meshwork status} shows of DNS. */
    public synchronized NodeStatus.Dns status() {
        Map<String, String> names = new LinkedHashMap<>();
        for (DnsZone.Device peer : peers.values()) {
            String label = DnsNames.label(peer.hostname(), peer.id());
            if (!label.equals(peer.hostname())) {
                names.put(peer.hostname(), label + "." + domain);
            }
        }
        return new NodeStatus.Dns(host.effective().toString(), domain,
                DnsNames.label(self.hostname(), self.id()) + "." + domain,
                addresses.stream().map(IpLiteral::format).toList(),
                forwarder.upstreams().stream().map(IpLiteral::format).toList(), names, stats.queries.sum(),
                stats.forwarded.sum(), stats.cacheHits.sum(), stats.dropped.sum(), host.note());
    }

    @Override
    public void close() {
        host.restore();
        server.close();
        forwarder.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
}
