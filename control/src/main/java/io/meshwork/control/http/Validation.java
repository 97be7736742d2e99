package io.meshwork.control.http;

import io.meshwork.control.organization.Organization;
import io.meshwork.protocol.policy.References;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.net.Prefix;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the API accepts, in one place: ids, hostnames and names, relay regions, paging numbers, public keys, CIDRs
 * and security groups. Each check that fails throws an {@link ApiException} saying what was wrong (400), so bad
 * input never reaches an entity.
 */
final class Validation {

    private static final Pattern HOSTNAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    private static final Pattern PORTS = Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?");
    private static final List<String> PROTOCOLS = List.of("tcp", "udp", "icmp", "any");

    private Validation() {}

    /** Organization ids as {@link Tokens#newOrganizationId} makes them: "o" and 12 hex digits. */
    private static final Pattern ORGANIZATION_ID = Pattern.compile("o[0-9a-f]{12}");
    /** Device ids as {@link Tokens#newDeviceId} makes them: the organization's id, "-d" and 12 hex digits. */
    private static final Pattern DEVICE_ID = Pattern.compile("o[0-9a-f]{12}-d[0-9a-f]{12}");
    /** Relay ids as enrollment makes them: "r" and 12 hex digits. */
    private static final Pattern RELAY_ID = Pattern.compile("r[0-9a-f]{12}");

    /**
     * Whether {@code id} has the shape of an organization id. Ids from paths and tokens are checked by shape before
     * any entity is asked, so no request can make the cluster start (and journal-read) an entity for an id that
     * control never made.
     */
    static boolean isOrganizationId(String id) {
        return id != null && ORGANIZATION_ID.matcher(id).matches();
    }

    /** Whether {@code id} has the shape of a device id (see {@link #isOrganizationId}). */
    static boolean isDeviceId(String id) {
        return id != null && DEVICE_ID.matcher(id).matches();
    }

    /** Whether {@code id} has the shape of a relay id. */
    static boolean isRelayId(String id) {
        return id != null && RELAY_ID.matcher(id).matches();
    }

    static boolean isHostname(String text) {
        return text != null && HOSTNAME.matcher(text).matches();
    }

    /** {@code text} when it is a hostname (1 to 63 letters, digits, '.', '-', '_'); else a 400 naming {@code field}. */
    static String hostname(String text, String field) {
        if (!isHostname(text)) {
            throw new ApiException(400, field + " must be 1 to 63 letters, digits, '.', '-' or '_'");
        }
        return text;
    }

    /** A relay region: 1 to 32 lowercase letters, digits or '-'. */
    static String region(String text) {
        if (!REGION.matcher(text).matches()) {
            throw new ApiException(400, "region must be 1 to 32 lowercase letters, digits or '-'");
        }
        return text;
    }

    /** A paging number from the query, {@code fallback} when absent. */
    static int number(Optional<String> text, int fallback, String name) {
        try {
            int value = text.map(Integer::parseInt).orElse(fallback);
            if (value < 0) {
                throw new ApiException(400, name + " must not be negative");
            }
            return value;
        } catch (NumberFormatException e) {
            throw new ApiException(400, name + " must be a number");
        }
    }

    /** A page size from the query: 1 to 1000, 100 when absent. */
    static int limit(Optional<String> text) {
        int limit = number(text, 100, "limit");
        if (limit < 1 || limit > 1000) {
            throw new ApiException(400, "limit must be 1 to 1000");
        }
        return limit;
    }

    /** A WireGuard public key: 32 bytes of base64. */
    static byte[] publicKey(String text) {
        if (text == null) {
            throw new ApiException(400, "publicKey is required");
        }
        try {
            byte[] key = Base64.getDecoder().decode(text);
            if (key.length != 32) {
                throw new ApiException(400, "publicKey must be 32 bytes of base64, as wg pubkey prints it");
            }
            return key;
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "publicKey is not base64");
        }
    }

    /**
     * Whether {@code text} is an IPv4 or IPv6 CIDR with its length, as {@link Prefix#parse} reads one. Only plain
     * literals are taken: a dotted quad, or IPv6 hex groups and colons (no brackets, zone or embedded IPv4), which
     * is what security policies resolve.
     */
    static boolean isCidr(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return false;
        }
        String ip = text.substring(0, slash);
        if (!ip.matches("\\d{1,3}(\\.\\d{1,3}){3}") && !(ip.contains(":") && ip.matches("[0-9a-fA-F:]+"))) {
            return false;
        }
        try {
            Prefix.parse(text);
            return true;
        } catch (InvalidAddressException e) {
            return false;
        }
    }

    /**
     * A security group as given, checked against the organization's {@code state}: every field says what is wrong
     * with it in a 400. {@code pathName} is the name in the path of a PUT (null for a POST).
     */
    static Organization.SecurityGroup securityGroup(Organization.Summary state, Organization.SecurityGroup group,
            String pathName) {
        String name = group.name() == null ? pathName : group.name();
        hostname(name, "name");
        if (pathName != null && !name.equals(pathName)) {
            throw new ApiException(400, "the name in the body differs from the one in the path");
        }
        List<String> appliesTo = group.appliesTo() == null ? List.of("*") : group.appliesTo();
        if (appliesTo.isEmpty() || appliesTo.size() > 1024) {
            throw new ApiException(400, "appliesTo: 1 to 1024 references (" + REFERENCES + ")");
        }
        for (String target : appliesTo) {
            reference(state, target, name, "appliesTo");
        }
        if (group.rules() == null || group.rules().isEmpty() || group.rules().size() > 256) {
            throw new ApiException(400, "rules: 1 to 256 allow rules");
        }
        for (Organization.Rule rule : group.rules()) {
            rule(state, rule, name);
        }
        return new Organization.SecurityGroup(name, List.copyOf(appliesTo), List.copyOf(group.rules()));
    }

    private static void rule(Organization.Summary state, Organization.Rule rule, String groupName) {
        if (rule == null) {
            throw new ApiException(400, "rules: null is not a rule");
        }
        if (rule.protocol() == null || !PROTOCOLS.contains(rule.protocol())) {
            throw new ApiException(400, "protocol must be tcp, udp, icmp or any");
        }
        if (rule.ports() != null && !rule.ports().equals("*")) {
            if (!rule.protocol().equals("tcp") && !rule.protocol().equals("udp")) {
                throw new ApiException(400, "ports only apply to tcp and udp rules");
            }
            var matcher = PORTS.matcher(rule.ports());
            if (!matcher.matches()) {
                throw new ApiException(400, "ports must be PORT, FROM-TO or *: " + rule.ports());
            }
            int from = Integer.parseInt(matcher.group(1));
            int to = matcher.group(2) == null ? from : Integer.parseInt(matcher.group(2));
            if (from < 1 || to > 65535 || from > to) {
                throw new ApiException(400, "ports out of range 1-65535: " + rule.ports());
            }
        }
        if (rule.peers() == null || rule.peers().isEmpty() || rule.peers().size() > 1024) {
            throw new ApiException(400, "each rule needs 1 to 1024 peers (" + REFERENCES + ")");
        }
        for (String peer : rule.peers()) {
            reference(state, peer, groupName, "peers");
        }
    }

    /** What a security group may name devices by. */
    private static final String REFERENCES = "device ids, tag:NAME, group:NAME, CIDRs or \"*\"; never hostnames";

    /**
     * A reference to devices in a group's {@code appliesTo} or a rule's {@code peers}: "*", a device id of this
     * organization, {@code tag:NAME}, {@code group:NAME} naming an existing group (or the group itself) or a CIDR.
     * A hostname is refused: a device chooses its own, so membership by hostname could be claimed.
     */
    private static void reference(Organization.Summary state, String reference, String groupName, String field) {
        if (reference == null) {
            throw new ApiException(400, field + ": null is not a reference (" + REFERENCES + ")");
        }
        switch (References.kind(reference)) {
            case ALL -> { }
            case TAG -> {
                if (!References.isTag(References.name(reference))) {
                    throw new ApiException(400, field + ": a tag is 1 to 63 lowercase letters, digits or '-': "
                            + reference);
                }
            }
            case GROUP -> {
                String other = References.name(reference);
                if (!other.equals(groupName) && !state.securityGroups().containsKey(other)) {
                    throw new ApiException(400, field + ": no security group named " + other);
                }
            }
            case CIDR -> {
                if (!isCidr(reference)) {
                    throw new ApiException(400, field + ": not a CIDR: " + reference);
                }
            }
            case DEVICE -> {
                if (!isDeviceId(reference) || !Tokens.organizationOfDevice(reference).equals(state.id())) {
                    throw new ApiException(400, field + ": " + reference + " is not a device id of this organization"
                            + " (" + REFERENCES + ")");
                }
            }
        }
    }

    /** At most this many tags on a device or a key. */
    static final int MAX_TAGS = 64;

    /** Tags as given: sorted, without duplicates; 400 when one is not 1 to 63 lowercase letters, digits or '-'. */
    static List<String> tags(List<String> tags) {
        if (tags.size() > MAX_TAGS) {
            throw new ApiException(400, "tags: at most " + MAX_TAGS);
        }
        for (String tag : tags) {
            if (!References.isTag(tag)) {
                throw new ApiException(400, "tags are 1 to 63 lowercase letters, digits or '-': " + tag);
            }
        }
        return List.copyOf(new java.util.TreeSet<>(tags));
    }

    /** At most this many routes a device advertises, or a key or tag auto-approves. */
    static final int MAX_ROUTES = 64;

    /** Prefixes no route may overlap: loopback, link-local, multicast and the unspecified address's block. */
    private static final List<Prefix> NEVER_ROUTED = List.of(Prefix.parse("127.0.0.0/8"),
            Prefix.parse("169.254.0.0/16"), Prefix.parse("224.0.0.0/3"), Prefix.parse("0.0.0.0/8"),
            Prefix.parse("::1/128"), Prefix.parse("fe80::/10"), Prefix.parse("ff00::/8"));

    /**
     * Subnet routes as given in {@code field}: CIDRs in canonical form ({@code 10.1.2.3/24} is {@code 10.1.2.0/24}),
     * sorted, without duplicates; 400 for a non-CIDR, a default route ({@code exitNode} offers those), more than
     * {@value #MAX_ROUTES}, or one overlapping loopback, link-local or multicast addresses or any of
     * {@code overlayAddresses} (the mesh's own).
     */
    static List<String> routes(List<String> routes, String field, List<String> overlayAddresses) {
        if (routes == null) {
            return List.of();
        }
        if (routes.size() > MAX_ROUTES) {
            throw new ApiException(400, field + ": at most " + MAX_ROUTES + " routes");
        }
        java.util.TreeSet<String> canonical = new java.util.TreeSet<>();
        for (String route : routes) {
            if (route == null || !isCidr(route)) {
                throw new ApiException(400, field + ": not a CIDR (as in 192.168.10.0/24): " + route);
            }
            Prefix prefix = Prefix.parse(route);
            if (prefix.length() == 0) {
                throw new ApiException(400, field + ": " + route + " is a default route; an exit node offers those "
                        + "(exitNode)");
            }
            for (Prefix never : NEVER_ROUTED) {
                if (overlaps(prefix, never)) {
                    throw new ApiException(400, field + ": " + route + " overlaps " + never
                            + " (loopback, link-local, multicast or unspecified addresses are never routed)");
                }
            }
            for (String overlay : overlayAddresses) {
                Prefix address = Prefix.parseAddressOrPrefix(overlay);
                if (overlaps(prefix, address)) {
                    throw new ApiException(400, field + ": " + route + " holds the mesh's own address " + overlay);
                }
            }
            canonical.add(prefix.toString());
        }
        return List.copyOf(canonical);
    }

    /** Whether two prefixes of one family share an address. */
    static boolean overlaps(Prefix a, Prefix b) {
        return a.isIpv4() == b.isIpv4() && (a.contains(b) || b.contains(a));
    }

    /**
     * Auto-approval as given in {@code field}: {@code routes} CIDRs (a route inside one is approved; {@code 0.0.0.0/0}
     * approves every IPv4 subnet route, not an exit node), {@code exitNode} whether exit nodes are.
     */
    static io.meshwork.control.organization.RouteTable.AutoApprove autoApprove(Requests.AutoApprove given,
            String field) {
        if (given == null) {
            return null;
        }
        List<String> routes = given.routes() == null ? List.of() : given.routes();
        if (routes.size() > MAX_ROUTES) {
            throw new ApiException(400, field + ".routes: at most " + MAX_ROUTES);
        }
        java.util.TreeSet<String> canonical = new java.util.TreeSet<>();
        for (String route : routes) {
            if (route == null || !isCidr(route)) {
                throw new ApiException(400, field + ".routes: not a CIDR (as in 10.0.0.0/8): " + route);
            }
            canonical.add(Prefix.parse(route).toString());
        }
        return new io.meshwork.control.organization.RouteTable.AutoApprove(List.copyOf(canonical),
                Boolean.TRUE.equals(given.exitNode()));
    }

    /** Prefixes a device advertises, named in {@code field} of a review: canonical; 400 for a non-CIDR. */
    static List<String> reviewed(List<String> routes, String field) {
        if (routes == null) {
            return List.of();
        }
        if (routes.size() > MAX_ROUTES) {
            throw new ApiException(400, field + ": at most " + MAX_ROUTES + " routes");
        }
        java.util.LinkedHashSet<String> canonical = new java.util.LinkedHashSet<>();
        for (String route : routes) {
            if (route == null || !isCidr(route)) {
                throw new ApiException(400, field + ": not a CIDR (as in 192.168.10.0/24; an exit node is "
                        + "0.0.0.0/0 and ::/0): " + route);
            }
            canonical.add(Prefix.parse(route).toString());
        }
        return List.copyOf(canonical);
    }
}
