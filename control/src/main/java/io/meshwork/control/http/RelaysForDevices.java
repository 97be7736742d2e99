package io.meshwork.control.http;

import io.meshwork.control.relay.RelayDirectory;
import io.meshwork.protocol.api.RelayInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What control hands devices about relays: the relays they may use and the STUN servers they probe their NAT with.
 *
 * <p>Relays are the source of public-address discovery (see docs/architecture.md, "Node"): a new
 * deployment configures no STUN servers, enrolls a relay with {@code --stun IP1,IP2}, and its devices classify
 * their NATs against that relay's RFC 5780 server. A relay enrolled without {@code --stun} still answers STUN
 * binding requests on its UDP port, so that port serves as a (mapping-only) STUN server. Configured servers come
 * first, then the healthy relays' {@code --stun} servers, then relays' UDP ports; duplicates are listed once.
 *
 * <p>An enrolled relay is listed while it is healthy ({@link RelayDirectory.RelayRecord#healthyAt}): one that stops
 * reporting is withdrawn at the first read after it missed {@value RelayDirectory#MISSED_HEARTBEATS} heartbeats, and
 * listed again after its next one.
 *
 * <p>A node's relay ({@code node up --relay}) serves its own organization only: {@link Catalog#forOrganization}
 * leaves it out of every other organization's list, STUN servers included.
 *
 * @param relays      configured relays (health not followed: {@code healthy} as configured, null), then every
 *                    healthy enrolled relay by name ({@code healthy} true)
 * @param stunServers "host:port" STUN servers for devices, configured ones first
 */
public record RelaysForDevices(List<RelayInfo> relays, List<String> stunServers) {

    /**
     * Everything the lists of every organization are made from, read once: the configured relays and STUN servers
     * and the enrolled relays healthy at the time of reading.
     */
    public record Catalog(List<RelayInfo> configuredRelays, List<String> configuredStunServers,
            List<RelayDirectory.RelayRecord> healthy) {

        public static Catalog of(List<RelayInfo> configuredRelays, List<String> configuredStunServers,
                Collection<RelayDirectory.RelayRecord> enrolled, long nowMillis, Duration heartbeat) {
            return new Catalog(List.copyOf(configuredRelays), List.copyOf(configuredStunServers), enrolled.stream()
                    .filter(relay -> relay.healthyAt(nowMillis, heartbeat))
                    .toList());
        }

        /** The list devices of {@code organizationId} get: every relay but other organizations' nodes' relays. */
        public RelaysForDevices forOrganization(String organizationId) {
            return RelaysForDevices.of(configuredRelays, configuredStunServers, healthy.stream()
                    .filter(relay -> relay.serves(organizationId))
                    .toList());
        }
    }

    /** The list at {@code nowMillis}, for relays told to report every {@code heartbeat}. */
    public static RelaysForDevices of(List<RelayInfo> configuredRelays, List<String> configuredStunServers,
            Collection<RelayDirectory.RelayRecord> enrolled, long nowMillis, Duration heartbeat) {
        return of(configuredRelays, configuredStunServers, enrolled.stream()
                .filter(relay -> relay.healthyAt(nowMillis, heartbeat))
                .toList());
    }

    /** The list with every enrolled relay's last report taken as current. */
    public static RelaysForDevices of(List<RelayInfo> configuredRelays, List<String> configuredStunServers,
            Collection<RelayDirectory.RelayRecord> enrolled) {
        List<RelayInfo> relays = new ArrayList<>(configuredRelays);
        Set<String> stun = new LinkedHashSet<>(configuredStunServers);
        // RFC 5780 servers (two IPs) before the relays' UDP ports: the prober measures filtering only against the
        // first server that can answer from its other address.
        List<String> relayPorts = new ArrayList<>();
        for (RelayInfo configured : configuredRelays) {
            if (configured.udp() != null) {
                relayPorts.add(configured.udp());
            }
        }
        enrolled.stream()
                .filter(RelayDirectory.RelayRecord::healthy)
                .sorted(Comparator.comparing(RelayDirectory.RelayRecord::name)
                        .thenComparing(RelayDirectory.RelayRecord::id))
                .forEach(relay -> {
                    relays.add(new RelayInfo(relay.name(), relay.udp(), relay.tcp(), relay.tlsSha256(),
                            relay.region(), true));
                    if (relay.stun() != null && !relay.stun().isEmpty()) {
                        stun.addAll(relay.stun());
                    } else if (relay.udp() != null) {
                        relayPorts.add(relay.udp());
                    }
                });
        stun.addAll(relayPorts);
        return new RelaysForDevices(List.copyOf(relays), List.copyOf(stun));
    }
}
