package io.meshwork.control.organization;

import io.meshwork.control.CborSerializable;
import io.meshwork.control.organization.Organization.DeviceRecord;
import io.meshwork.control.organization.Organization.RegistrationKey;
import io.meshwork.protocol.api.RouteAdvertisement;
import io.meshwork.protocol.api.RouteStatus;
import io.meshwork.protocol.net.Prefix;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Subnet routes and exit nodes of an organization (docs/architecture.md, "Subnet routers and exit nodes"): what each
 * device advertises, what administrators approved or rejected, the tags whose devices' routes are approved by
 * themselves, and the primary router of every approved prefix. Routes are prefixes in {@link Prefix#toString} form;
 * an exit node's offer is {@link RouteAdvertisement#EXIT_ROUTES}.
 *
 * <p>A route is approved when the device advertises it, it is not rejected, and an administrator approved it or it
 * is auto-approved: its registration key's {@code autoApproveRoutes}, or those of one of its tags, hold a prefix
 * covering it (for an exit node: say {@code exitNode: true}). Of the active devices an approved prefix has, one is
 * its primary router ({@link #elect}); peers route the prefix to it alone.
 *
 * @param devices      by device id: what it advertises and what administrators decided
 * @param tagApprovers by tag: the routes devices with that tag have approved without an administrator
 * @param primaries    by prefix (no default route): the device id of its primary router
 */
public record RouteTable(Map<String, DeviceRoutes> devices, Map<String, AutoApprove> tagApprovers,
        Map<String, String> primaries) implements CborSerializable {

    public static final RouteTable EMPTY = new RouteTable(Map.of(), Map.of(), Map.of());

    public RouteTable {
        devices = devices == null ? Map.of() : Map.copyOf(devices);
        tagApprovers = tagApprovers == null ? Map.of() : Map.copyOf(tagApprovers);
        primaries = primaries == null ? Map.of() : Map.copyOf(primaries);
    }

    /**
     * One device's routes: {@code advertised} (with the exit prefixes when it offers itself as an exit node), and
     * the prefixes administrators {@code approved} and {@code rejected} (a rejection outweighs an auto-approval).
     */
    public record DeviceRoutes(List<String> advertised, List<String> approved, List<String> rejected)
            implements CborSerializable {
        public DeviceRoutes {
            advertised = advertised == null ? List.of() : List.copyOf(advertised);
            approved = approved == null ? List.of() : List.copyOf(approved);
            rejected = rejected == null ? List.of() : List.copyOf(rejected);
        }

        static final DeviceRoutes NONE = new DeviceRoutes(List.of(), List.of(), List.of());
    }

    /**
     * Routes approved without an administrator: those inside one of {@code routes}, and an exit node when
     * {@code exitNode}. On a registration key ({@code autoApproveRoutes}) or a tag.
     */
    public record AutoApprove(List<String> routes, boolean exitNode) implements CborSerializable {
        public AutoApprove {
            routes = routes == null ? List.of() : List.copyOf(routes);
        }

        boolean covers(String route) {
            if (isExit(route)) {
                return exitNode;
            }
            Prefix wanted = Prefix.parse(route);
            for (String approver : routes) {
                Prefix prefix = Prefix.parse(approver);
                if (prefix.isIpv4() == wanted.isIpv4() && prefix.contains(wanted)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Whether {@code route} is one of an exit node's default routes. */
    public static boolean isExit(String route) {
        return RouteAdvertisement.EXIT_ROUTES.contains(route);
    }

    DeviceRoutes of(String deviceId) {
        return devices.getOrDefault(deviceId, DeviceRoutes.NONE);
    }

    RouteTable withDevice(String deviceId, DeviceRoutes routes) {
        Map<String, DeviceRoutes> next = new LinkedHashMap<>(devices);
        if (routes.advertised().isEmpty() && routes.approved().isEmpty() && routes.rejected().isEmpty()) {
            next.remove(deviceId);
        } else {
            next.put(deviceId, routes);
        }
        return new RouteTable(next, tagApprovers, primaries);
    }

    RouteTable withoutDevice(String deviceId) {
        Map<String, DeviceRoutes> next = new LinkedHashMap<>(devices);
        next.remove(deviceId);
        return new RouteTable(next, tagApprovers, primaries);
    }

    RouteTable withTagApprovers(Map<String, AutoApprove> approvers) {
        return new RouteTable(devices, approvers, primaries);
    }

    RouteTable withPrimaries(Map<String, String> next) {
        return new RouteTable(devices, tagApprovers, next);
    }

    /** The routes of {@code device} that are approved, in the order it advertises them. */
    List<String> approved(DeviceRecord device, RegistrationKey key) {
        DeviceRoutes routes = of(device.id());
        List<String> approved = new ArrayList<>();
        for (String route : routes.advertised()) {
            if (!routes.rejected().contains(route)
                    && (routes.approved().contains(route) || autoApproved(device, key, route))) {
                approved.add(route);
            }
        }
        return approved;
    }

    private boolean autoApproved(DeviceRecord device, RegistrationKey key, String route) {
        if (key != null && key.autoApproveRoutes() != null && key.autoApproveRoutes().covers(route)) {
            return true;
        }
        for (String tag : device.tags()) {
            AutoApprove approver = tagApprovers.get(tag);
            if (approver != null && approver.covers(route)) {
                return true;
            }
        }
        return false;
    }

    /** What {@code device} routes for its peers: its approved, non-default routes it is the primary of. */
    List<String> primaryOf(String deviceId) {
        List<String> routes = new ArrayList<>();
        for (String route : of(deviceId).advertised()) {
            if (deviceId.equals(primaries.get(route))) {
                routes.add(route);
            }
        }
        return routes;
    }

    /** {@code device}'s routes as the API shows them. */
    RouteStatus status(DeviceRecord device, RegistrationKey key, boolean online) {
        DeviceRoutes routes = of(device.id());
        List<String> approved = approved(device, key);
        List<String> pending = routes.advertised().stream().filter(route -> !approved.contains(route)).toList();
        boolean exit = approved.stream().anyMatch(RouteTable::isExit);
        return new RouteStatus(routes.advertised(), approved, pending, primaryOf(device.id()), exit, online);
    }

    /**
     * The primary router of every approved prefix (default routes aside: every approved exit node serves them),
     * given the current {@code primaries} and which devices are {@code online}. Deterministic and sticky: a primary
     * that still has the prefix approved and is online stays; else the online candidate registered first (then by
     * id) takes it; with no candidate online the current primary stays, or the first candidate takes it. Only active
     * devices are candidates.
     *
     * @param approvedOf the approved routes of an active device
     */
    static Map<String, String> elect(Map<String, String> current, List<DeviceRecord> activeRouters,
            java.util.function.Function<DeviceRecord, List<String>> approvedOf, Predicate<String> online) {
        Map<String, List<DeviceRecord>> candidates = new TreeMap<>();
        for (DeviceRecord device : activeRouters) {
            for (String route : approvedOf.apply(device)) {
                if (!isExit(route)) {
                    candidates.computeIfAbsent(route, r -> new ArrayList<>()).add(device);
                }
            }
        }
        Comparator<DeviceRecord> oldestFirst = Comparator.comparingLong(DeviceRecord::registeredMillis)
                .thenComparing(DeviceRecord::id);
        Map<String, String> elected = new TreeMap<>();
        candidates.forEach((route, devices) -> {
            devices.sort(oldestFirst);
            String primary = current.get(route);
            boolean stillCandidate = primary != null && devices.stream().anyMatch(d -> d.id().equals(primary));
            if (stillCandidate && online.test(primary)) {
                elected.put(route, primary);
                return;
            }
            for (DeviceRecord device : devices) {
                if (online.test(device.id())) {
                    elected.put(route, device.id());
                    return;
                }
            }
            elected.put(route, stillCandidate ? primary : devices.get(0).id());
        });
        return elected;
    }

    /** The devices whose primary routes differ between {@code before} and {@code after}. */
    static Set<String> primaryChanges(Map<String, String> before, Map<String, String> after) {
        Set<String> changed = new TreeSet<>();
        Set<String> routes = new TreeSet<>(before.keySet());
        routes.addAll(after.keySet());
        for (String route : routes) {
            String was = before.get(route);
            String is = after.get(route);
            if (was == null ? is != null : !was.equals(is)) {
                if (was != null) {
                    changed.add(was);
                }
                if (is != null) {
                    changed.add(is);
                }
            }
        }
        return changed;
    }
}
