package io.meshwork.node.local;

import java.util.List;
import java.util.Map;

/**
 * What {@code meshwork status --json} prints: this node and each of its peers.
 *
 * @param self this node
 * @param peers every peer in this node's peer map (the devices the organization's security groups let it learn),
 *              ordered by hostname
 * @param dns  the node's resolver and how the host uses it; null when the resolver does not run
 * @param relayService the relay this node runs for its organization ({@code node up --relay}); null without
 * @param routes subnet routes and exit nodes this node advertises or takes; null when it does neither
 */
public record NodeStatus(Self self, List<Peer> peers, Dns dns, RelayService relayService, Routes routes) {

    public NodeStatus(Self self, List<Peer> peers, Dns dns) {
        this(self, peers, dns, null, null);
    }

    public NodeStatus(Self self, List<Peer> peers) {
        this(self, peers, null, null, null);
    }

    /**
     * The relay this node runs for its organization (docs/architecture.md, "Relay scopes").
     *
     * @param state      "relaying", "not allowed" (control has not allowed this device to relay), "starting",
     *                   "failed" or "stopped"
     * @param address    where it is advertised (ip:port), or null while it is not relaying
     * @param clients    devices connected to it
     * @param udpClients of which over UDP
     * @param tcpClients of which over TCP
     * @param detail     why it is in that state, in words
     */
    public record RelayService(String state, String address, int clients, int udpClients, int tcpClients,
            String detail) {}

    /**
     * Subnet routes and exit nodes (docs/architecture.md, "Subnet routers and exit nodes"); null when the node neither
     * advertises nor takes any.
     *
     * @param advertised what this node advertises (an exit node's offer as 0.0.0.0/0 and ::/0)
     * @param approved   what of that control approved (null before control answered)
     * @param pending    what of that waits for an administrator (null before control answered)
     * @param primary    the prefixes this node is the primary router of
     * @param forwarding how the node forwards ("iptables" or "nftables", with SNAT or not), or why it cannot
     * @param exitNode   the exit node this node's default traffic goes through (its hostname), or null
     * @param exitNote   why no exit node is in use although one was asked for, or null
     * @param routes     every route of the peer map: the router in use, or why it is not taken
     */
    public record Routes(List<String> advertised, List<String> approved, List<String> pending, List<String> primary,
            String forwarding, String exitNode, String exitNote, List<Route> routes) {}

    /**
     * @param prefix  the route
     * @param router  the peer routing it (its hostname)
     * @param skipped why this node does not route it through that peer, or null when it does
     */
    public record Route(String prefix, String router, String skipped) {}

    /**
     * The resolver (docs/architecture.md, "Names").
     *
     * @param mode      how the host uses it: "resolved", "resolvconf" or "off" ({@code --dns auto} resolves to one)
     * @param domain    the organization's DNS domain
     * @param name      this device's name ("laptop.meshwork.internal")
     * @param resolver  the addresses it answers on
     * @param upstreams where names outside the mesh go
     * @param names     each peer's name by hostname, where the hostname is not a DNS label as it is
     * @param note      why the host does not use the resolver, or null
     */
    public record Dns(String mode, String domain, String name, List<String> resolver, List<String> upstreams,
            Map<String, String> names, long queries, long forwarded, long cacheHits, long dropped, String note) {}

    /**
     * @param nat     the latest netcheck report fields (udp, publicEndpoints, mapping, filtering, portPreserving,
     *                hairpin, classic), empty until the first probe finished
     * @param control the peer-map session with control in words: "connected", "waiting for an administrator to
     *                approve this device", "reconnecting: why"; null before the first answer
     * @param overlay what of the overlay this host could not configure, in words ("IPv4 only: IPv6 is disabled on
     *                this host (net.ipv6.conf.all.disable_ipv6=1)"); null when every overlay address is configured
     * @param portMapping the port mapping the gateway holds for the WireGuard port, or null without one
     */
    public record Self(String id, String hostname, List<String> overlayIps, Map<String, Object> nat, String control,
            String overlay, PortMapping portMapping, HomeRelay homeRelay) {
        public Self(String id, String hostname, List<String> overlayIps, Map<String, Object> nat, String control,
                String overlay, PortMapping portMapping) {
            this(id, hostname, overlayIps, nat, control, overlay, portMapping, null);
        }

        public Self(String id, String hostname, List<String> overlayIps, Map<String, Object> nat, String control,
                String overlay) {
            this(id, hostname, overlayIps, nat, control, overlay, null);
        }

        public Self(String id, String hostname, List<String> overlayIps, Map<String, Object> nat, String control) {
            this(id, hostname, overlayIps, nat, control, null);
        }

        public Self(String id, String hostname, List<String> overlayIps, Map<String, Object> nat) {
            this(id, hostname, overlayIps, nat, null, null);
        }
    }

    /**
     * The node's home relay (docs/architecture.md, "Relay selection and failover"): where its peers send it relayed
     * traffic.
     *
     * @param name       the relay's name
     * @param latencyMs  the round trip measured to it, or null before it was measured (one relay is never measured)
     * @param transport  "udp" or "tcp" once connected, else null
     * @param latencies  every measured relay's round trip in milliseconds, by name, in control's order
     */
    public record HomeRelay(String name, Double latencyMs, String transport, Map<String, Double> latencies) {}

    /**
     * A port mapping of the WireGuard port on the gateway (docs/architecture.md, "Port mapping").
     *
     * @param protocol "pcp", "nat-pmp" or "upnp"
     * @param external the mapped address outside, ip:port, advertised to peers with source "portmap"
     * @param gateway  the gateway that holds it
     * @param expires  ISO-8601 time the gateway drops it unless renewed (the node renews at half the lifetime)
     */
    public record PortMapping(String protocol, String external, String gateway, String expires) {}

    /**
     * One peer and the path its traffic takes.
     *
     * @param path          "direct", "relay" or "none"
     * @param endpoint      the direct ip:port in use, or null
     * @param relay         the relay's name when relayed, or null
     * @param transport     "udp" or "tcp": how this node reaches the relay (or "udp" when direct)
     * @param latencyMs     the latest measured round trip on the current path, or null before one was measured
     * @param lastHandshake ISO-8601 time of the last completed WireGuard handshake, or null
     * @param reason        why the path is what it is, in words
     * @param tags          the peer's tags, which security groups name it by (empty when it has none)
     * @param tried         while not direct: each way to a direct path tried and why it failed, in words (empty
     *                      when direct, or before the first attempt ended)
     */
    public record Peer(
            String id,
            String hostname,
            List<String> overlayIps,
            String path,
            String endpoint,
            String relay,
            String transport,
            Double latencyMs,
            String lastHandshake,
            long rxBytes,
            long txBytes,
            String reason,
            List<String> tags,
            List<String> tried) {

        public Peer {
            tags = tags == null ? List.of() : List.copyOf(tags);
            tried = tried == null ? List.of() : List.copyOf(tried);
        }

        /** A peer with nothing tried (direct, or no attempt ended yet). */
        public Peer(String id, String hostname, List<String> overlayIps, String path, String endpoint, String relay,
                String transport, Double latencyMs, String lastHandshake, long rxBytes, long txBytes, String reason,
                List<String> tags) {
            this(id, hostname, overlayIps, path, endpoint, relay, transport, latencyMs, lastHandshake, rxBytes, txBytes,
                    reason, tags, List.of());
        }

        /** A peer without tags. */
        public Peer(String id, String hostname, List<String> overlayIps, String path, String endpoint, String relay,
                String transport, Double latencyMs, String lastHandshake, long rxBytes, long txBytes, String reason) {
            this(id, hostname, overlayIps, path, endpoint, relay, transport, latencyMs, lastHandshake, rxBytes, txBytes,
                    reason, List.of());
        }
    }
}
