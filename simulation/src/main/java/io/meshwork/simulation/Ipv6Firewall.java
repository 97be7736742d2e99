package io.meshwork.simulation;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stateful firewall on a dual-stack site's gateway for its routed IPv6 (no translation): it admits inbound
 * UDP only for flows a host inside opened, by the outside address and port as well (endpoint-dependent filtering,
 * as ip6tables' {@code conntrack --ctstate ESTABLISHED,RELATED} with a default drop on the forward chain). A flow
 * lives {@link #FLOW_TIMEOUT_NANOS} after its last outbound packet; the table holds at most {@link #MAX_FLOWS}
 * flows and forgets the oldest first.
 */
final class Ipv6Firewall {

    /** Linux's {@code nf_conntrack_udp_timeout_stream}: 120 s. */
    static final long FLOW_TIMEOUT_NANOS = 120_000_000_000L;
    static final int MAX_FLOWS = 65_536;

    private record Flow(InetSocketAddress inside, InetSocketAddress outside) {}

    private final Map<Flow, Long> flows = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Flow, Long> eldest) {
            return size() > MAX_FLOWS;
        }
    };
    private final AtomicLong dropped = new AtomicLong();

    /** A packet leaving the site: its flow is opened or refreshed. */
    synchronized void outbound(Packet packet, long nowNanos) {
        flows.put(new Flow(packet.source(), packet.destination()), nowNanos);
    }

    /** Whether a packet coming in belongs to a flow an inside host opened and that has not timed out. */
    synchronized boolean admits(Packet packet, long nowNanos) {
        Flow flow = new Flow(packet.destination(), packet.source());
        Long last = flows.get(flow);
        if (last == null || nowNanos - last > FLOW_TIMEOUT_NANOS) {
            if (last != null) {
                flows.remove(flow);
            }
            dropped.incrementAndGet();
            return false;
        }
        return true;
    }

    /** Inbound packets dropped for belonging to no open flow. */
    long dropped() {
        return dropped.get();
    }

    /** Open flows now, for tests. */
    synchronized int size() {
        return flows.size();
    }
}
