package io.meshwork.node.dns;

import io.meshwork.protocol.net.Prefix;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The node's resolver alone, for {@code bench/dns.sh}: bound on {@code ADDRESS}:53 with a zone of {@code DEVICES}
 * mesh names ({@code dev-N.meshwork.internal}, 100.64.x.y) and an upstream on loopback that answers every other
 * name (TTL one hour), so after the first query each upstream name comes from the cache. Prints "ready" and runs
 * until killed. Not a test.
 */
public final class DnsBenchServer {

    private DnsBenchServer() {}

    public static void main(String[] args) throws Exception {
        InetAddress address = InetAddress.getByName(args.length > 0 ? args[0] : "100.100.100.100");
        int devices = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        List<DnsZone.Device> zone = new ArrayList<>();
        for (int i = 1; i <= devices; i++) {
            zone.add(new DnsZone.Device("d" + i, "dev-" + i, List.of("100.64." + (i >> 8) + "." + (i & 0xFF),
                    "fd12:3456:789a::" + Integer.toHexString(i))));
        }
        DnsStats stats = new DnsStats();
        EventLoopGroup group = NodeDns.eventLoops(2);
        try (FakeUpstream upstream = new FakeUpstream("192.0.2.80", 3600, 0, false, false);
                UpstreamForwarder forwarder = new UpstreamForwarder(List.of(upstream.address()), group, stats)) {
            MeshResolver resolver = new MeshResolver(DnsZone.build("meshwork.internal", zone, List.of(),
                    List.of(Prefix.parse("100.64.0.0/10"), Prefix.parse("fd12:3456:789a::/64"))), forwarder, stats);
            try (DnsServer server = DnsServer.bind(List.of(new InetSocketAddress(address, 53)), group, 2, resolver,
                    stats)) {
                System.out.println("ready: " + devices + " mesh names on " + address.getHostAddress() + ":53");
                System.out.flush();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.printf(
                        "resolver counters: %d queries, %d answered from the zone, %d forwarded, %d cache hits, "
                                + "%d dropped%n", stats.queries.sum(), stats.answered.sum(), stats.forwarded.sum(),
                        stats.cacheHits.sum(), stats.dropped.sum())));
                Thread.currentThread().join();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
