package io.meshwork.control.organization;

import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.SecurityPolicy;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.net.Prefix;
import io.meshwork.protocol.policy.PolicyGroup;
import io.meshwork.protocol.policy.PolicyIndex;
import io.meshwork.protocol.policy.PolicyMember;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The organization's security groups as the policy computation reads them ({@link PolicyIndex}): who may learn
 * whom (the peer maps) and the inbound policy each device enforces (docs/api.md, "Security groups").
 *
 * <p>A group applies to a device when its {@code appliesTo} names it: {@code "*"}, its id, one of its tags
 * ({@code tag:NAME}), a group that applies to it ({@code group:NAME}) or a CIDR holding its overlay address. Its
 * rules allow inbound traffic from the sources they name the same ways, resolved to overlay prefixes. A device no
 * group applies to is open; only active devices are members of anything or in any map.
 */
public final class SecurityPolicies {

    private SecurityPolicies() {}

    /** The group as the policy computation reads it. */
    public static PolicyGroup group(Organization.SecurityGroup group) {
        List<PolicyGroup.Rule> rules = new ArrayList<>();
        if (group.rules() != null) {
            for (Organization.Rule rule : group.rules()) {
                rules.add(new PolicyGroup.Rule(rule.protocol(), rule.ports(), rule.peers()));
            }
        }
        return new PolicyGroup(group.name(), group.appliesTo(), rules);
    }

    public static List<PolicyGroup> groups(Map<String, Organization.SecurityGroup> groups) {
        return groups.values().stream().map(SecurityPolicies::group).toList();
    }

    public static PolicyMember member(Organization.DeviceRecord device) {
        return new PolicyMember(device.id(), device.tags(), device.overlayIps());
    }

    public static PolicyMember member(PeerInfo peer) {
        return new PolicyMember(peer.id(), peer.tags(), peer.overlayIps());
    }

    /** The index of the active ones of {@code devices} under {@code groups}. */
    public static PolicyIndex index(Map<String, Organization.SecurityGroup> groups,
            Collection<Organization.DeviceRecord> devices) {
        List<PolicyMember> members = new ArrayList<>();
        for (Organization.DeviceRecord device : devices) {
            if (device.status().equals(Organization.DeviceRecord.ACTIVE)) {
                members.add(member(device));
            }
        }
        return PolicyIndex.of(groups(groups), members);
    }

    /** The policy of {@code deviceId}: {@link SecurityPolicy#OPEN} when no group applies to it (or it is not active). */
    public static SecurityPolicy effectiveFor(Map<String, Organization.SecurityGroup> groups,
            Map<String, Organization.DeviceRecord> devices, String deviceId) {
        return index(groups, devices.values()).policyOf(deviceId);
    }

    /** "443" → [443, 443]; "8000-8100" → [8000, 8100]; null or "*" → every port. */
    static int[] ports(String text) {
        return PolicyIndex.ports(text);
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
}
