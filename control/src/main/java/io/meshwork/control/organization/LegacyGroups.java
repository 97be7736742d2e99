package io.meshwork.control.organization;

import io.meshwork.control.organization.Organization.DeviceRecord;
import io.meshwork.control.organization.Organization.Rule;
import io.meshwork.control.organization.Organization.SecurityGroup;
import io.meshwork.protocol.policy.References;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Security groups as earlier releases wrote them, read as groups of today (docs/api.md, "Security groups"). Then
 * {@code appliesTo} could name a device by its hostname, and a rule's {@code peers} a group by its bare name. A
 * hostname is chosen by the device itself, so membership by hostname could be claimed; groups now name devices by
 * id, {@code tag:}, {@code group:}, CIDR or "*" only.
 *
 * <p>Migration, applied as a group is read back (its event on recovery, or a snapshot): a bare {@code appliesTo}
 * entry that is not a device id becomes the ids of the devices that had that hostname at the time, or goes away when
 * none had it; a bare rule peer that is not a device id becomes {@code group:NAME}. Each rewrite is logged as a
 * warning, so an administrator can check the group. Groups of today are left as they are.
 */
final class LegacyGroups {

    private static final Logger LOG = LoggerFactory.getLogger(LegacyGroups.class);
    /** Device ids as control makes them (the organization's id, "-d", 12 hex digits). */
    private static final Pattern DEVICE_ID = Pattern.compile("o[0-9a-f]{12}-d[0-9a-f]{12}");

    private LegacyGroups() {}

    /** {@code group} with its legacy entries rewritten against {@code devices}; the group itself when it has none. */
    static SecurityGroup migrate(String organizationId, SecurityGroup group, Map<String, DeviceRecord> devices) {
        boolean changed = false;
        List<String> appliesTo = null;
        if (group.appliesTo() != null) {
            appliesTo = new ArrayList<>();
            for (String target : group.appliesTo()) {
                if (!isLegacy(target, devices)) {
                    appliesTo.add(target);
                    continue;
                }
                changed = true;
                TreeSet<String> ids = new TreeSet<>();
                for (DeviceRecord device : devices.values()) {
                    if (target.equals(device.hostname())) {
                        ids.add(device.id());
                    }
                }
                LOG.warn("organization {}: security group {} named hostname {} in appliesTo; it now names {}",
                        organizationId, group.name(), target, ids.isEmpty() ? "no device (none had that hostname)"
                                : "device ids " + ids);
                for (String id : ids) {
                    if (!appliesTo.contains(id)) {
                        appliesTo.add(id);
                    }
                }
            }
        }
        List<Rule> rules = null;
        if (group.rules() != null) {
            rules = new ArrayList<>();
            for (Rule rule : group.rules()) {
                if (rule == null || rule.peers() == null) {
                    rules.add(rule);
                    continue;
                }
                List<String> peers = new ArrayList<>();
                for (String peer : rule.peers()) {
                    if (isLegacy(peer, devices)) {
                        changed = true;
                        LOG.warn("organization {}: security group {} named group {} without its prefix in a rule;"
                                + " it now names group:{}", organizationId, group.name(), peer, peer);
                        peers.add(References.GROUP + peer);
                    } else {
                        peers.add(peer);
                    }
                }
                rules.add(new Rule(rule.protocol(), rule.ports(), List.copyOf(peers)));
            }
        }
        return changed ? new SecurityGroup(group.name(), appliesTo == null ? null : List.copyOf(appliesTo),
                rules == null ? null : List.copyOf(rules)) : group;
    }

    /** A bare entry that is neither a device's id nor shaped like one: a hostname, or a group's bare name. */
    private static boolean isLegacy(String entry, Map<String, DeviceRecord> devices) {
        return entry != null && References.kind(entry) == References.Kind.DEVICE && !devices.containsKey(entry)
                && !DEVICE_ID.matcher(entry).matches();
    }
}
