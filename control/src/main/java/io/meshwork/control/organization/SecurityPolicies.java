package io.meshwork.control.organization;

import io.meshwork.protocol.api.PolicyRule;
import io.meshwork.protocol.api.SecurityPolicy;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.net.Prefix;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Resolves the security groups of an organization into the inbound policy one device enforces.
 *
 * <p>A group applies to a device when its {@code appliesTo} lists {@code "*"}, the device's id or its hostname.
 * Its rules allow inbound traffic to those devices. A rule's peers are CIDRs, or references to a group
 * ({@code "group:NAME"}, or the bare group name) meaning the overlay addresses of the active devices that group
 * applies to. A device no group applies to is open; revoked devices are members of nothing.
 */
public final class SecurityPolicies {

    static final String GROUP_PREFIX = "group:";

    private SecurityPolicies() {}

    /** The policy of {@code deviceId}: {@link SecurityPolicy#OPEN} when no group applies to it. */
    public static SecurityPolicy effectiveFor(Map<String, Organization.SecurityGroup> groups,
            Map<String, Organization.DeviceRecord> devices, String deviceId) {
        Organization.DeviceRecord device = devices.get(deviceId);
        if (groups.isEmpty() || device == null || !device.status().equals(Organization.DeviceRecord.ACTIVE)) {
            return SecurityPolicy.OPEN;
        }
        List<String> applying = new ArrayList<>();
        List<PolicyRule> rules = new ArrayList<>();
        for (Organization.SecurityGroup group : sorted(groups.values())) {
            if (!appliesTo(group, device)) {
                continue;
            }
            applying.add(group.name());
            for (Organization.Rule rule : group.rules()) {
                rules.add(resolve(rule, groups, devices));
            }
        }
        return applying.isEmpty() ? SecurityPolicy.OPEN
                : new SecurityPolicy(true, List.copyOf(applying), List.copyOf(rules));
    }

    /**
     * The devices some group applies to. Every policy depends on these alone: a device no group applies to is open,
     * and a group reference expands to the devices that group applies to. So resolving with them instead of every
     * device gives the same policy for any device, from fewer records to carry to the peer streams.
     */
    public static Map<String, Organization.DeviceRecord> members(Map<String, Organization.SecurityGroup> groups,
            Map<String, Organization.DeviceRecord> devices) {
        Map<String, Organization.DeviceRecord> members = new HashMap<>();
        for (Organization.DeviceRecord device : devices.values()) {
            if (groups.values().stream().anyMatch(group -> appliesTo(group, device))) {
                members.put(device.id(), device);
            }
        }
        return Map.copyOf(members);
    }

    static boolean appliesTo(Organization.SecurityGroup group, Organization.DeviceRecord device) {
        List<String> targets = group.appliesTo() == null ? List.of("*") : group.appliesTo();
        return device.status().equals(Organization.DeviceRecord.ACTIVE)
                && (targets.contains("*") || targets.contains(device.id()) || targets.contains(device.hostname()));
    }

    /** The group a peer entry names, or null when it is a CIDR. */
    public static String referencedGroup(String peer) {
        if (peer.startsWith(GROUP_PREFIX)) {
            return peer.substring(GROUP_PREFIX.length());
        }
        return peer.indexOf('/') < 0 ? peer : null;
    }

    private static PolicyRule resolve(Organization.Rule rule, Map<String, Organization.SecurityGroup> groups,
            Map<String, Organization.DeviceRecord> devices) {
        int[] ports = ports(rule.ports());
        // Sorted and without duplicates, so equal policies compare equal and are not sent again.
        TreeSet<String> prefixes = new TreeSet<>();
        for (String peer : rule.peers()) {
            String groupName = referencedGroup(peer);
            if (groupName == null) {
                prefixes.add(canonicalCidr(peer));
                continue;
            }
            Organization.SecurityGroup referenced = groups.get(groupName);
            if (referenced == null) {
                continue;
            }
            for (Organization.DeviceRecord member : devices.values()) {
                if (appliesTo(referenced, member)) {
                    for (String ip : member.overlayIps()) {
                        prefixes.add(ip + (ip.indexOf(':') >= 0 ? "/128" : "/32"));
                    }
                }
            }
        }
        return new PolicyRule(rule.protocol(), ports[0], ports[1], List.copyOf(prefixes));
    }

    /** "443" → [443, 443]; "8000-8100" → [8000, 8100]; null or "*" → every port. */
    static int[] ports(String text) {
        if (text == null || text.equals("*")) {
            return new int[] {0, 65535};
        }
        int dash = text.indexOf('-');
        if (dash < 0) {
            int port = Integer.parseInt(text);
            return new int[] {port, port};
        }
        return new int[] {Integer.parseInt(text.substring(0, dash)), Integer.parseInt(text.substring(dash + 1))};
    }

    /**
     * The CIDR with its host bits cleared and its address in canonical form ("10.1.2.3/8" → "10.0.0.0/8", IPv6 in
     * the RFC 5952 short form), by the project's one {@link Prefix}: control and node read a rule alike.
     */
    static String canonicalCidr(String cidr) {
        try {
            return Prefix.parse(cidr).toString();
        } catch (InvalidAddressException e) {
            throw new IllegalArgumentException("not a CIDR: " + cidr, e);
        }
    }

    private static List<Organization.SecurityGroup> sorted(Collection<Organization.SecurityGroup> groups) {
        return groups.stream().sorted(java.util.Comparator.comparing(Organization.SecurityGroup::name)).toList();
    }
}
