package io.meshwork.protocol.policy;

import io.meshwork.protocol.api.PolicyRule;
import io.meshwork.protocol.api.SecurityPolicy;
import io.meshwork.protocol.net.Prefix;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Who may learn whom under an organization's security groups, kept up to date one change at a time
 * (docs/api.md, "Security groups"; docs/architecture.md, "Peer-map visibility").
 *
 * <p>Device {@code b} accepts from device {@code a} when no group applies to {@code b} (it is open), or when a
 * rule of a group that applies to {@code b} names {@code a} among its peers (by id, tag, group, CIDR or "*"), for
 * any protocol or port. Two devices see each other, and each is in the other's peer map, when either accepts from
 * the other. Nothing else is visible: a device's map holds nothing of the devices it may neither reach nor be
 * reached by.
 *
 * <p>How it is computed: the groups are compiled once per policy revision (their order, which groups each one's
 * {@code group:} references reach, the CIDRs parsed). Each device then has a <em>standing</em>: the groups that
 * apply to it, the groups whose rules name it, and the rules that name it by reference (whose resolved prefixes
 * hold its addresses). Whether two devices see each other depends on their two standings alone, so a change of one
 * device only touches the pairs it is in, and a group edit only the devices whose standing it changes; the sets
 * the group members and sources are indexed by answer a device's whole view in time proportional to it. Every
 * change answers a {@link Change}: for each device, the peers that entered and left its view, and the devices
 * whose inbound policy may differ.
 *
 * <p>Pure and not thread-safe: one owner drives it (control's per-organization peer-map feed, the simulation's
 * control, tests), and it holds only the active devices it is given.
 */
public final class PolicyIndex {

    /**
     * What a change did: {@code entered} and {@code left}, per device, the peers that entered and left its view;
     * {@code policyTouched}, the devices whose inbound policy may have changed (compare before sending it).
     */
    public record Change(Map<String, Set<String>> entered, Map<String, Set<String>> left, Set<String> policyTouched) {
        public static final Change NONE = new Change(Map.of(), Map.of(), Set.of());

        public Set<String> enteredFor(String deviceId) {
            return entered.getOrDefault(deviceId, Set.of());
        }

        public Set<String> leftFor(String deviceId) {
            return left.getOrDefault(deviceId, Set.of());
        }

        /** The devices whose view changed. */
        public Set<String> viewsChanged() {
            Set<String> changed = new HashSet<>(entered.keySet());
            changed.addAll(left.keySet());
            return changed;
        }
    }

    /** Rule {@code rule} (its index) of group {@code group}. */
    private record RuleKey(String group, int rule) {}

    /**
     * How one device stands with the groups: those that apply to it (by name), those whose rules name it,
     * and the rules that name it by id, tag or group (their resolved prefixes hold its addresses).
     */
    private record Standing(Set<String> groups, Set<String> sourceOf, Set<RuleKey> refOf) {
        boolean open() {
            return groups.isEmpty();
        }
    }

    /** The groups as compiled once per policy revision. */
    private static final class Compiled {
        final Map<String, PolicyGroup> groups = new TreeMap<>();
        /** Per group, itself and the groups its appliesTo reaches through group: references. */
        final Map<String, List<String>> reach = new HashMap<>();
        final Map<String, Prefix> cidrs = new HashMap<>();

        Compiled(Collection<PolicyGroup> given) {
            for (PolicyGroup group : given) {
                groups.put(group.name(), group);
                for (String reference : group.appliesTo()) {
                    parseCidr(reference);
                }
                for (PolicyGroup.Rule rule : group.rules()) {
                    rule.peers().forEach(this::parseCidr);
                }
            }
            for (String name : groups.keySet()) {
                List<String> reached = new ArrayList<>();
                Set<String> seen = new HashSet<>(Set.of(name));
                Deque<String> next = new ArrayDeque<>(List.of(name));
                while (!next.isEmpty()) {
                    String current = next.poll();
                    reached.add(current);
                    for (String reference : groups.get(current).appliesTo()) {
                        if (References.kind(reference) == References.Kind.GROUP) {
                            String other = References.name(reference);
                            if (groups.containsKey(other) && seen.add(other)) {
                                next.add(other);
                            }
                        }
                    }
                }
                reach.put(name, List.copyOf(reached));
            }
        }

        private void parseCidr(String reference) {
            if (References.kind(reference) == References.Kind.CIDR) {
                Prefix prefix = References.cidr(reference);
                if (prefix != null) {
                    cidrs.put(reference, prefix);
                }
            }
        }
    }

    /** The standings and the sets they are indexed by. */
    private static final class Tables {
        final Map<String, Standing> standings = new HashMap<>();
        final Map<String, Set<String>> members = new HashMap<>();
        final Map<String, Set<String>> sources = new HashMap<>();
        final Map<RuleKey, Set<String>> refs = new HashMap<>();
        final Set<String> open = new HashSet<>();

        void add(String id, Standing standing) {
            standings.put(id, standing);
            if (standing.open()) {
                open.add(id);
            }
            standing.groups().forEach(group -> members.computeIfAbsent(group, g -> new HashSet<>()).add(id));
            standing.sourceOf().forEach(group -> sources.computeIfAbsent(group, g -> new HashSet<>()).add(id));
            standing.refOf().forEach(rule -> refs.computeIfAbsent(rule, r -> new HashSet<>()).add(id));
        }

        Standing remove(String id) {
            Standing standing = standings.remove(id);
            if (standing == null) {
                return null;
            }
            open.remove(id);
            standing.groups().forEach(group -> members.get(group).remove(id));
            standing.sourceOf().forEach(group -> sources.get(group).remove(id));
            standing.refOf().forEach(rule -> refs.get(rule).remove(id));
            return standing;
        }

        boolean visible(String a, String b) {
            return !a.equals(b) && visible(standings.get(a), standings.get(b));
        }

        /** Whether devices of these standings see each other: either one accepts from the other. */
        static boolean visible(Standing first, Standing second) {
            return first != null && second != null && (first.open() || second.open()
                    || !Collections.disjoint(first.groups(), second.sourceOf())
                    || !Collections.disjoint(second.groups(), first.sourceOf()));
        }

        /** The devices {@code id} sees: everyone when it is open, else the open ones and those the groups pair it with. */
        Set<String> visibleTo(String id) {
            Standing standing = standings.get(id);
            if (standing == null) {
                return new HashSet<>();
            }
            Set<String> visible;
            if (standing.open()) {
                visible = new HashSet<>(standings.keySet());
            } else {
                visible = new HashSet<>(open);
                for (String group : standing.sourceOf()) {
                    visible.addAll(members.getOrDefault(group, Set.of()));
                }
                for (String group : standing.groups()) {
                    visible.addAll(sources.getOrDefault(group, Set.of()));
                }
            }
            visible.remove(id);
            return visible;
        }

        Set<String> membersOf(String group) {
            return members.getOrDefault(group, Set.of());
        }
    }

    private final Map<String, PolicyMember> devices = new HashMap<>();
    /** The devices with each tag, whatever the groups. */
    private final Map<String, Set<String>> byTag = new HashMap<>();
    private Compiled compiled;
    private Tables tables = new Tables();
    /** Resolved rules per group, for this revision of the groups and their referenced members. */
    private final Map<String, List<PolicyRule>> resolved = new HashMap<>();

    public PolicyIndex(Collection<PolicyGroup> groups) {
        this.compiled = new Compiled(groups);
    }

    /** An index of {@code members} under {@code groups}. */
    public static PolicyIndex of(Collection<PolicyGroup> groups, Collection<PolicyMember> members) {
        PolicyIndex index = new PolicyIndex(groups);
        for (PolicyMember member : members) {
            index.put(member);
            index.tables.add(member.id(), index.evaluate(member, index.compiled));
        }
        return index;
    }

    // ---- queries ------------------------------------------------------------------------------------------

    public boolean contains(String deviceId) {
        return devices.containsKey(deviceId);
    }

    public int size() {
        return devices.size();
    }

    public Collection<PolicyGroup> groups() {
        return Collections.unmodifiableCollection(compiled.groups.values());
    }

    /** Whether {@code a} and {@code b} are in each other's map: either accepts from the other. */
    public boolean visible(String a, String b) {
        return tables.visible(a, b);
    }

    /** Whether {@code to} accepts traffic from {@code from} under some rule, or because it is open. */
    public boolean accepts(String to, String from) {
        Standing receiver = tables.standings.get(to);
        Standing sender = tables.standings.get(from);
        return receiver != null && sender != null && !to.equals(from)
                && (receiver.open() || !Collections.disjoint(receiver.groups(), sender.sourceOf()));
    }

    /** The devices {@code deviceId} sees (a new set the caller may keep). */
    public Set<String> visibleTo(String deviceId) {
        return tables.visibleTo(deviceId);
    }

    /** The inbound policy of {@code deviceId}: {@link SecurityPolicy#OPEN} when no group applies to it. */
    public SecurityPolicy policyOf(String deviceId) {
        Standing standing = tables.standings.get(deviceId);
        if (standing == null || standing.open()) {
            return SecurityPolicy.OPEN;
        }
        List<PolicyRule> rules = new ArrayList<>();
        List<String> names = List.copyOf(new TreeSet<>(standing.groups()));
        for (String group : names) {
            rules.addAll(resolved.computeIfAbsent(group, this::resolve));
        }
        return new SecurityPolicy(true, names, List.copyOf(rules));
    }

    // ---- changes ------------------------------------------------------------------------------------------

    /** A device joined or changed (its tags or addresses). */
    public Change upsert(PolicyMember member) {
        PolicyMember old = devices.get(member.id());
        if (member.equals(old)) {
            return Change.NONE;
        }
        Standing after = evaluate(member, compiled);
        Standing before = tables.standings.get(member.id());
        boolean addressesChanged = old == null || !old.overlayIps().equals(member.overlayIps());
        if (after.equals(before) && !addressesChanged) {
            put(member);
            return Change.NONE;
        }
        Set<String> seenBefore = tables.visibleTo(member.id());
        tables.remove(member.id());
        put(member);
        tables.add(member.id(), after);
        Set<String> seenAfter = tables.visibleTo(member.id());
        Changes changes = new Changes();
        changes.between(member.id(), seenBefore, seenAfter);
        changes.policy.add(member.id());
        Set<RuleKey> rules = new HashSet<>(after.refOf());
        if (before != null) {
            if (addressesChanged) {
                rules.addAll(before.refOf());
            } else {
                Set<RuleKey> kept = new HashSet<>(before.refOf());
                kept.retainAll(after.refOf());
                rules.addAll(before.refOf());
                rules.removeAll(kept);
            }
        }
        touchRules(rules, changes);
        return changes.result();
    }

    /** A device left (deleted, revoked, or no longer active). */
    public Change remove(String deviceId) {
        if (!devices.containsKey(deviceId)) {
            return Change.NONE;
        }
        Set<String> seenBefore = tables.visibleTo(deviceId);
        Standing before = tables.remove(deviceId);
        unput(deviceId);
        Changes changes = new Changes();
        changes.between(deviceId, seenBefore, Set.of());
        touchRules(before.refOf(), changes);
        changes.policy.remove(deviceId);
        return changes.result();
    }

    /**
     * The organization's groups are now {@code groups}: compiled again, and the standing re-read of every device the
     * edited groups named before or name now (by id, tag or group; a {@code *} or CIDR in an edited group re-reads
     * every device). Only the devices whose standing changed have their views compared.
     */
    public Change setGroups(Collection<PolicyGroup> groups) {
        Compiled next = new Compiled(groups);
        if (next.groups.equals(compiled.groups)) {
            return Change.NONE;
        }
        Set<String> edited = new HashSet<>(compiled.groups.keySet());
        edited.addAll(next.groups.keySet());
        edited.removeIf(name -> Objects.equals(compiled.groups.get(name), next.groups.get(name)));
        Set<String> candidates = candidates(compiled, next, edited);
        Map<String, Standing> restanding = new HashMap<>();
        for (String id : candidates == null ? devices.keySet() : candidates) {
            PolicyMember member = devices.get(id);
            if (member != null) {
                Standing standing = evaluate(member, next);
                if (!standing.equals(tables.standings.get(id))) {
                    restanding.put(id, standing);
                }
            }
        }
        // A device that opens or closes may change its pair with anyone: its whole view is compared. Any other only
        // with the devices of the groups it joined or left, as a member or as a source (see changedPairs).
        Map<String, Set<String>> seenBefore = new HashMap<>();
        Map<String, Standing> previousStandings = new HashMap<>();
        Set<String> involved = new HashSet<>();
        for (Map.Entry<String, Standing> entry : restanding.entrySet()) {
            Standing was = tables.standings.get(entry.getKey());
            previousStandings.put(entry.getKey(), was);
            if (was.open() != entry.getValue().open()) {
                seenBefore.put(entry.getKey(), tables.visibleTo(entry.getKey()));
            } else {
                involved.addAll(symmetricDifference(was.groups(), entry.getValue().groups()));
                involved.addAll(symmetricDifference(was.sourceOf(), entry.getValue().sourceOf()));
            }
        }
        Map<String, Set<String>> membersWere = new HashMap<>();
        Map<String, Set<String>> sourcesWere = new HashMap<>();
        for (String name : involved) {
            membersWere.put(name, new HashSet<>(tables.membersOf(name)));
            sourcesWere.put(name, new HashSet<>(tables.sources.getOrDefault(name, Set.of())));
        }
        Changes changes = new Changes();
        Set<String> policyGroups = new HashSet<>(edited);
        Map<String, Set<String>> membersBefore = new HashMap<>();
        for (String name : edited) {
            membersBefore.put(name, new HashSet<>(tables.membersOf(name)));
        }
        for (Map.Entry<String, Standing> entry : restanding.entrySet()) {
            Standing was = tables.remove(entry.getKey());
            Standing is = entry.getValue();
            tables.add(entry.getKey(), is);
            if (!was.groups().equals(is.groups())) {
                changes.policy.add(entry.getKey());
            }
            Set<RuleKey> rules = new HashSet<>(was.refOf());
            rules.addAll(is.refOf());
            Set<RuleKey> kept = new HashSet<>(was.refOf());
            kept.retainAll(is.refOf());
            rules.removeAll(kept);
            rules.forEach(rule -> policyGroups.add(rule.group()));
        }
        compiled = next;
        // Only the rules of edited groups, and of those whose references now resolve otherwise, are resolved again.
        resolved.keySet().removeAll(policyGroups);
        for (Map.Entry<String, Standing> entry : restanding.entrySet()) {
            String id = entry.getKey();
            if (seenBefore.containsKey(id)) {
                changes.between(id, seenBefore.get(id), tables.visibleTo(id));
                continue;
            }
            Standing was = previousStandings.get(id);
            Standing is = entry.getValue();
            Set<String> others = new HashSet<>();
            for (String group : symmetricDifference(was.groups(), is.groups())) {
                others.addAll(sourcesWere.get(group));
                others.addAll(tables.sources.getOrDefault(group, Set.of()));
            }
            for (String group : symmetricDifference(was.sourceOf(), is.sourceOf())) {
                others.addAll(membersWere.get(group));
                others.addAll(tables.membersOf(group));
            }
            for (String other : others) {
                if (other.equals(id)) {
                    continue;
                }
                Standing otherWas = previousStandings.getOrDefault(other, tables.standings.get(other));
                boolean before = Tables.visible(was, otherWas);
                boolean after = tables.visible(id, other);
                if (before != after) {
                    changes.pair(id, other, after);
                }
            }
        }
        for (String name : policyGroups) {
            changes.policy.addAll(membersBefore.getOrDefault(name, Set.of()));
            changes.policy.addAll(tables.membersOf(name));
        }
        return changes.result();
    }

    /**
     * The devices whose standing the edit of {@code edited} may change: those their definitions before and after
     * name, following group references; null when one names every device or a CIDR (then every device is re-read).
     */
    private Set<String> candidates(Compiled before, Compiled after, Set<String> edited) {
        Set<String> out = new HashSet<>();
        Set<String> visited = new HashSet<>();
        Deque<String> pending = new ArrayDeque<>(edited);
        while (!pending.isEmpty()) {
            String name = pending.poll();
            if (!visited.add(name)) {
                continue;
            }
            out.addAll(tables.membersOf(name));
            for (PolicyGroup group : new PolicyGroup[] {before.groups.get(name), after.groups.get(name)}) {
                if (group == null) {
                    continue;
                }
                List<String> references = new ArrayList<>(group.appliesTo());
                group.rules().forEach(rule -> references.addAll(rule.peers()));
                for (String reference : references) {
                    switch (References.kind(reference)) {
                        case ALL, CIDR -> {
                            return null;
                        }
                        case DEVICE -> out.add(reference);
                        case TAG -> out.addAll(byTag.getOrDefault(References.name(reference), Set.of()));
                        case GROUP -> pending.add(References.name(reference));
                    }
                }
            }
        }
        return out;
    }

    // ---- internals ----------------------------------------------------------------------------------------

    private static Set<String> symmetricDifference(Set<String> first, Set<String> second) {
        Set<String> difference = new HashSet<>(first);
        difference.addAll(second);
        Set<String> both = new HashSet<>(first);
        both.retainAll(second);
        difference.removeAll(both);
        return difference;
    }

    private void put(PolicyMember member) {
        unput(member.id());
        devices.put(member.id(), member);
        member.tags().forEach(tag -> byTag.computeIfAbsent(tag, t -> new HashSet<>()).add(member.id()));
    }

    private void unput(String deviceId) {
        PolicyMember old = devices.remove(deviceId);
        if (old != null) {
            for (String tag : old.tags()) {
                Set<String> tagged = byTag.get(tag);
                tagged.remove(deviceId);
                if (tagged.isEmpty()) {
                    byTag.remove(tag);
                }
            }
        }
    }

    /** The members of the groups whose rules in {@code rules} resolve differently now. */
    private void touchRules(Set<RuleKey> rules, Changes changes) {
        for (RuleKey rule : rules) {
            resolved.remove(rule.group());
            changes.policy.addAll(tables.membersOf(rule.group()));
        }
    }

    /** A change being gathered. */
    private static final class Changes {
        final Map<String, Set<String>> entered = new HashMap<>();
        final Map<String, Set<String>> left = new HashMap<>();
        final Set<String> policy = new HashSet<>();

        /** {@code id}'s view went from {@code before} to {@code after}; each peer's view changed with it. */
        void between(String id, Set<String> before, Set<String> after) {
            for (String peer : after) {
                if (!before.contains(peer)) {
                    entered.computeIfAbsent(id, k -> new HashSet<>()).add(peer);
                    entered.computeIfAbsent(peer, k -> new HashSet<>()).add(id);
                }
            }
            for (String peer : before) {
                if (!after.contains(peer)) {
                    left.computeIfAbsent(id, k -> new HashSet<>()).add(peer);
                    left.computeIfAbsent(peer, k -> new HashSet<>()).add(id);
                }
            }
        }

        /** {@code a} and {@code b} entered ({@code entered}) or left each other's view. */
        void pair(String a, String b, boolean entered) {
            Map<String, Set<String>> into = entered ? this.entered : left;
            into.computeIfAbsent(a, k -> new HashSet<>()).add(b);
            into.computeIfAbsent(b, k -> new HashSet<>()).add(a);
        }

        Change result() {
            if (entered.isEmpty() && left.isEmpty() && policy.isEmpty()) {
                return Change.NONE;
            }
            return new Change(entered, left, policy);
        }
    }

    private Standing evaluate(PolicyMember member, Compiled groups) {
        List<Prefix> addresses = new ArrayList<>();
        for (String ip : member.overlayIps()) {
            try {
                addresses.add(Prefix.parseAddressOrPrefix(ip));
            } catch (RuntimeException e) {
                // Not an address: it matches no CIDR.
            }
        }
        Map<String, Boolean> direct = new HashMap<>();
        for (PolicyGroup group : groups.groups.values()) {
            boolean matches = false;
            for (String reference : group.appliesTo()) {
                if (References.kind(reference) != References.Kind.GROUP
                        && matches(reference, member, addresses, groups, Set.of())) {
                    matches = true;
                    break;
                }
            }
            direct.put(group.name(), matches);
        }
        Set<String> applying = new TreeSet<>();
        for (String name : groups.groups.keySet()) {
            for (String reached : groups.reach.get(name)) {
                if (direct.get(reached)) {
                    applying.add(name);
                    break;
                }
            }
        }
        Set<String> sourceOf = new HashSet<>();
        Set<RuleKey> refOf = new HashSet<>();
        for (PolicyGroup group : groups.groups.values()) {
            for (int i = 0; i < group.rules().size(); i++) {
                for (String reference : group.rules().get(i).peers()) {
                    if (matches(reference, member, addresses, groups, applying)) {
                        sourceOf.add(group.name());
                        References.Kind kind = References.kind(reference);
                        if (kind != References.Kind.ALL && kind != References.Kind.CIDR) {
                            refOf.add(new RuleKey(group.name(), i));
                        }
                    }
                }
            }
        }
        return new Standing(Set.copyOf(applying), Set.copyOf(sourceOf), Set.copyOf(refOf));
    }

    /** Whether {@code reference} names {@code member}; {@code applying}: the groups that apply to it. */
    private static boolean matches(String reference, PolicyMember member, List<Prefix> addresses, Compiled groups,
            Set<String> applying) {
        return switch (References.kind(reference)) {
            case ALL -> true;
            case DEVICE -> reference.equals(member.id());
            case TAG -> member.tags().contains(References.name(reference));
            case GROUP -> applying.contains(References.name(reference));
            case CIDR -> {
                Prefix cidr = groups.cidrs.get(reference);
                boolean inside = false;
                for (Prefix address : addresses) {
                    inside |= cidr != null && cidr.contains(address);
                }
                yield inside;
            }
        };
    }

    /** The rules of {@code groupName} with their references resolved to the overlay prefixes of what they name. */
    private List<PolicyRule> resolve(String groupName) {
        PolicyGroup group = compiled.groups.get(groupName);
        List<PolicyRule> rules = new ArrayList<>();
        for (int i = 0; i < group.rules().size(); i++) {
            PolicyGroup.Rule rule = group.rules().get(i);
            int[] ports = ports(rule.ports());
            // Sorted and without duplicates, so equal policies compare equal and are not sent again.
            TreeSet<String> prefixes = new TreeSet<>();
            for (String reference : rule.peers()) {
                References.Kind kind = References.kind(reference);
                if (kind == References.Kind.ALL) {
                    prefixes.add("0.0.0.0/0");
                    prefixes.add("::/0");
                } else if (kind == References.Kind.CIDR) {
                    Prefix cidr = compiled.cidrs.get(reference);
                    if (cidr != null) {
                        prefixes.add(cidr.toString());
                    }
                }
            }
            for (String id : tables.refs.getOrDefault(new RuleKey(groupName, i), Set.of())) {
                for (String ip : devices.get(id).overlayIps()) {
                    prefixes.add(ip + (ip.indexOf(':') >= 0 ? "/128" : "/32"));
                }
            }
            rules.add(new PolicyRule(rule.protocol(), ports[0], ports[1], List.copyOf(prefixes)));
        }
        return List.copyOf(rules);
    }

    /** "443" → [443, 443]; "8000-8100" → [8000, 8100]; null, "*" or unreadable → every port. */
    public static int[] ports(String text) {
        try {
            if (text == null || text.equals("*")) {
                return new int[] {0, 65535};
            }
            int dash = text.indexOf('-');
            if (dash < 0) {
                int port = Integer.parseInt(text);
                return new int[] {port, port};
            }
            return new int[] {Integer.parseInt(text.substring(0, dash)), Integer.parseInt(text.substring(dash + 1))};
        } catch (NumberFormatException e) {
            return new int[] {0, 65535};
        }
    }

    /** For tests and diagnostics: every device's view, computed pair by pair. */
    public Map<String, Set<String>> allPairsViews() {
        Map<String, Set<String>> views = new HashMap<>();
        for (String a : devices.keySet()) {
            Set<String> view = new LinkedHashSet<>();
            for (String b : devices.keySet()) {
                if (visible(a, b)) {
                    view.add(b);
                }
            }
            views.put(a, view);
        }
        return views;
    }
}
