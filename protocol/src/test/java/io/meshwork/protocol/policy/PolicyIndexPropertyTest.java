package io.meshwork.protocol.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.SecurityPolicy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * For random organizations (devices, tags, groups and rules naming ids, tags, groups, CIDRs and "*") and random
 * changes to them, the views {@link PolicyIndex} maintains one change at a time, and the per-device maps a stream
 * keeps by applying only the entered and left peers of each {@link PolicyIndex.Change}, equal what a naive
 * all-pairs reading of the groups gives after every change; and no map ever holds a peer the policy hides.
 */
class PolicyIndexPropertyTest {

    private static final List<String> TAGS = List.of("web", "db", "guest", "ops", "ci");
    private static final List<String> GROUP_NAMES = List.of("alpha", "beta", "gamma", "delta");

    /** The organization as the test keeps it, read naively. */
    private static final class World {
        final Map<String, PolicyMember> devices = new LinkedHashMap<>();
        final Map<String, PolicyGroup> groups = new LinkedHashMap<>();

        /** Whether a reference names {@code device}, following group: references with a path so cycles end. */
        boolean names(String reference, PolicyMember device, Set<String> path) {
            return switch (References.kind(reference)) {
                case ALL -> true;
                case DEVICE -> reference.equals(device.id());
                case TAG -> device.tags().contains(References.name(reference));
                case GROUP -> {
                    String name = References.name(reference);
                    PolicyGroup group = groups.get(name);
                    yield group != null && path.add(name) && appliesTo(group, device, path);
                }
                case CIDR -> device.overlayIps().stream().anyMatch(ip -> inside(reference, ip));
            };
        }

        boolean appliesTo(PolicyGroup group, PolicyMember device, Set<String> path) {
            for (String reference : group.appliesTo()) {
                if (names(reference, device, new HashSet<>(path))) {
                    return true;
                }
            }
            return false;
        }

        boolean accepts(PolicyMember to, PolicyMember from) {
            boolean anyApplies = false;
            for (PolicyGroup group : groups.values()) {
                if (!appliesTo(group, to, new HashSet<>(Set.of(group.name())))) {
                    continue;
                }
                anyApplies = true;
                for (PolicyGroup.Rule rule : group.rules()) {
                    for (String peer : rule.peers()) {
                        Set<String> path = new HashSet<>();
                        if (names(peer, from, path)) {
                            return true;
                        }
                    }
                }
            }
            return !anyApplies;
        }

        Map<String, Set<String>> views() {
            Map<String, Set<String>> views = new HashMap<>();
            for (PolicyMember a : devices.values()) {
                Set<String> view = new TreeSet<>();
                for (PolicyMember b : devices.values()) {
                    if (!a.id().equals(b.id()) && (accepts(a, b) || accepts(b, a))) {
                        view.add(b.id());
                    }
                }
                views.put(a.id(), view);
            }
            return views;
        }
    }

    /** Naive: "10.0.0.0/30"-style CIDRs over 10.0.0.x addresses. */
    private static boolean inside(String cidr, String ip) {
        if (ip.contains(":")) {
            return cidr.equals("::/0");
        }
        if (cidr.contains(":")) {
            return false;
        }
        String[] parts = cidr.split("/");
        int length = Integer.parseInt(parts[1]);
        long net = toLong(parts[0]);
        long address = toLong(ip);
        long mask = length == 0 ? 0 : (0xffffffffL << (32 - length)) & 0xffffffffL;
        return (net & mask) == (address & mask);
    }

    private static long toLong(String ip) {
        long value = 0;
        for (String octet : ip.split("\\.")) {
            value = value * 256 + Integer.parseInt(octet);
        }
        return value;
    }

    @Test
    void incrementalViewsAndEventsEqualTheAllPairsReadingAfterEveryChange() {
        for (long seed = 1; seed <= 60; seed++) {
            run(new Random(seed), seed);
        }
    }

    private void run(Random random, long seed) {
        World world = new World();
        int devicesMade = 0;
        for (int i = 0; i < 3 + random.nextInt(8); i++) {
            PolicyMember device = randomDevice(random, "d" + devicesMade++);
            world.devices.put(device.id(), device);
        }
        for (int i = 0; i < random.nextInt(3); i++) {
            PolicyGroup group = randomGroup(random, GROUP_NAMES.get(random.nextInt(GROUP_NAMES.size())), world);
            world.groups.put(group.name(), group);
        }
        PolicyIndex index = PolicyIndex.of(world.groups.values(), world.devices.values());
        // What each device's stream holds: its start view, then only what the changes' events say.
        Map<String, Set<String>> streams = new HashMap<>();
        for (String id : world.devices.keySet()) {
            streams.put(id, new TreeSet<>(index.visibleTo(id)));
        }
        Map<String, SecurityPolicy> policies = new HashMap<>();
        for (String id : world.devices.keySet()) {
            policies.put(id, index.policyOf(id));
        }
        check(world, index, streams, seed, "start");
        for (int step = 0; step < 40; step++) {
            int what = random.nextInt(10);
            PolicyIndex.Change change;
            String label;
            if (what < 3 || world.devices.isEmpty()) {
                PolicyMember device = randomDevice(random, "d" + devicesMade++);
                world.devices.put(device.id(), device);
                change = index.upsert(device);
                streams.put(device.id(), new TreeSet<>());
                label = "join " + device;
            } else if (what < 5) {
                String id = pick(random, world.devices.keySet());
                PolicyMember old = world.devices.get(id);
                PolicyMember retagged = new PolicyMember(id, randomTags(random), old.overlayIps());
                world.devices.put(id, retagged);
                change = index.upsert(retagged);
                label = "tag " + retagged;
            } else if (what < 6) {
                String id = pick(random, world.devices.keySet());
                world.devices.remove(id);
                change = index.remove(id);
                label = "leave " + id;
            } else if (what < 9) {
                PolicyGroup group = randomGroup(random, GROUP_NAMES.get(random.nextInt(GROUP_NAMES.size())), world);
                world.groups.put(group.name(), group);
                change = index.setGroups(world.groups.values());
                label = "group " + group;
            } else {
                if (world.groups.isEmpty()) {
                    continue;
                }
                String name = pick(random, world.groups.keySet());
                world.groups.remove(name);
                change = index.setGroups(world.groups.values());
                label = "ungroup " + name;
            }
            for (Map.Entry<String, Set<String>> entered : change.entered().entrySet()) {
                if (streams.containsKey(entered.getKey())) {
                    streams.get(entered.getKey()).addAll(entered.getValue());
                }
            }
            for (Map.Entry<String, Set<String>> left : change.left().entrySet()) {
                if (streams.containsKey(left.getKey())) {
                    streams.get(left.getKey()).removeAll(left.getValue());
                }
            }
            streams.keySet().retainAll(world.devices.keySet());
            for (String id : world.devices.keySet()) {
                SecurityPolicy now = index.policyOf(id);
                if (!now.equals(policies.get(id))) {
                    assertTrue(change.policyTouched().contains(id) || !policies.containsKey(id),
                            "seed " + seed + " " + label + ": the policy of " + id + " changed unannounced");
                }
                policies.put(id, now);
            }
            policies.keySet().retainAll(world.devices.keySet());
            check(world, index, streams, seed, label);
        }
    }

    private static void check(World world, PolicyIndex index, Map<String, Set<String>> streams, long seed,
            String label) {
        Map<String, Set<String>> expected = world.views();
        for (String id : world.devices.keySet()) {
            String where = "seed " + seed + " after " + label + ", device " + id + " in " + world.groups.values();
            assertEquals(expected.get(id), new TreeSet<>(index.visibleTo(id)), where + ": the index's view");
            assertEquals(expected.get(id), streams.get(id), where + ": the view the events built");
            for (String other : world.devices.keySet()) {
                if (!expected.get(id).contains(other)) {
                    assertFalse(index.visible(id, other), where + ": " + other + " is hidden");
                }
            }
        }
    }

    private static PolicyMember randomDevice(Random random, String id) {
        int host = random.nextInt(16);
        return new PolicyMember(id, randomTags(random), List.of("10.0.0." + host, "fd00::" + host));
    }

    private static Set<String> randomTags(Random random) {
        Set<String> tags = new HashSet<>();
        for (int i = random.nextInt(3); i > 0; i--) {
            tags.add(TAGS.get(random.nextInt(TAGS.size())));
        }
        return tags;
    }

    private static PolicyGroup randomGroup(Random random, String name, World world) {
        List<String> appliesTo = new ArrayList<>();
        for (int i = 0; i <= random.nextInt(2); i++) {
            appliesTo.add(randomReference(random, world));
        }
        List<PolicyGroup.Rule> rules = new ArrayList<>();
        for (int i = 0; i <= random.nextInt(2); i++) {
            List<String> peers = new ArrayList<>();
            for (int j = 0; j <= random.nextInt(2); j++) {
                peers.add(randomReference(random, world));
            }
            rules.add(new PolicyGroup.Rule(random.nextBoolean() ? "tcp" : "any", random.nextBoolean() ? "443" : null,
                    peers));
        }
        return new PolicyGroup(name, appliesTo, rules);
    }

    private static String randomReference(Random random, World world) {
        return switch (random.nextInt(9)) {
            case 0 -> "*";
            case 1, 2 -> world.devices.isEmpty() ? "d0" : pick(random, world.devices.keySet());
            case 3, 4 -> "tag:" + TAGS.get(random.nextInt(TAGS.size()));
            case 5, 6 -> "group:" + GROUP_NAMES.get(random.nextInt(GROUP_NAMES.size()));
            case 7 -> "10.0.0." + (4 * random.nextInt(4)) + "/30";
            default -> "10.0.0.0/" + (28 + random.nextInt(5));
        };
    }

    private static String pick(Random random, Set<String> from) {
        List<String> list = new ArrayList<>(from);
        return list.get(random.nextInt(list.size()));
    }
}
