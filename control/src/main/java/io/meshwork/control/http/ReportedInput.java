package io.meshwork.control.http;

import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.net.AddressClass;
import io.meshwork.protocol.net.HostPort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a device may report of itself, at registration and in its endpoint reports (docs/api.md, "Endpoint
 * reports"): endpoints peers will be sent to, and the NAT report peers read. Both are handed to every peer of the
 * organization, so both are checked here, by the same rules the node applies to what it takes from control
 * ({@link AddressClass#usableAs}), and bounded in size. A bad endpoint is a 400 that names it: the device sent it,
 * so it hears why rather than having it dropped silently.
 */
final class ReportedInput {

    /** Endpoints per report (or registration) at most. */
    static final int MAX_ENDPOINTS = 16;
    /** The sources a device reports endpoints with: interface addresses, its gateway's port mapping, what STUN saw. */
    static final Set<String> DEVICE_SOURCES = Set.of("local", "portmap", "stun");
    /** Longest string in an endpoint or in the NAT report. */
    static final int MAX_STRING = 64;
    /** Most items in a list of the NAT report. */
    static final int MAX_LIST = 16;
    /** Largest NAT report, as the JSON kept of it. */
    static final int MAX_NAT_BYTES = 4096;

    /** The JSON type a known NAT report field takes (null is always allowed: "unknown"). */
    private enum Kind { BOOLEAN, STRING, NUMBER, STRINGS, SERVERS }

    /** The fields of {@code meshwork netcheck --json} (NetcheckReportFormat in the node). */
    private static final Map<String, Kind> NAT_FIELDS = Map.ofEntries(
            Map.entry("udp", Kind.BOOLEAN), Map.entry("publicEndpoints", Kind.STRINGS),
            Map.entry("mapping", Kind.STRING), Map.entry("filtering", Kind.STRING),
            Map.entry("portPreserving", Kind.BOOLEAN), Map.entry("hairpin", Kind.BOOLEAN),
            Map.entry("noNat", Kind.BOOLEAN), Map.entry("classic", Kind.STRING),
            Map.entry("localEndpoints", Kind.STRINGS), Map.entry("servers", Kind.SERVERS),
            Map.entry("elapsedMillis", Kind.NUMBER));
    /** The fields of one entry of {@code servers}. */
    private static final Map<String, Kind> SERVER_FIELDS = Map.of("server", Kind.STRING, "answered", Kind.BOOLEAN,
            "mapped", Kind.STRING, "otherAddress", Kind.STRING, "rttMillis", Kind.NUMBER);

    private ReportedInput() {}

    /**
     * {@code endpoints} (null: none) when each is one a device may report: at most {@link #MAX_ENDPOINTS}, each an
     * {@code ip:port} ({@link HostPort#parseEndpoint}) with a source of {@link #DEVICE_SOURCES} whose address class
     * may be used with it: never unspecified, loopback, multicast or link-local (cloud metadata services included),
     * private only as a {@code local} one. Else a 400 naming the first bad endpoint.
     */
    static List<Endpoint> endpoints(List<Endpoint> endpoints) {
        if (endpoints == null) {
            return List.of();
        }
        if (endpoints.size() > MAX_ENDPOINTS) {
            throw new ApiException(400, "at most " + MAX_ENDPOINTS + " endpoints");
        }
        for (int i = 0; i < endpoints.size(); i++) {
            String refusal = refusal(endpoints.get(i));
            if (refusal != null) {
                throw new ApiException(400, "endpoints[" + i + "] " + describe(endpoints.get(i)) + ": " + refusal);
            }
        }
        return List.copyOf(endpoints);
    }

    /** Why a device may not report {@code endpoint}, or null when it may. */
    static String refusal(Endpoint endpoint) {
        if (endpoint == null || endpoint.address() == null) {
            return "an endpoint needs an address";
        }
        if (endpoint.source() == null || !DEVICE_SOURCES.contains(endpoint.source())) {
            return "source must be local, portmap or stun";
        }
        return usable(endpoint);
    }

    /** Why a peer may not be sent to {@code endpoint} whatever reported it, or null when it may. */
    static String usable(Endpoint endpoint) {
        if (endpoint.address().length() > MAX_STRING) {
            return "an address is at most " + MAX_STRING + " characters";
        }
        return AddressClass.endpointRefusal(endpoint.address(), endpoint.source());
    }

    private static String describe(Endpoint endpoint) {
        if (endpoint == null) {
            return "null";
        }
        String address = endpoint.address() == null ? "null" : truncated(endpoint.address());
        String source = endpoint.source() == null ? "null" : truncated(endpoint.source());
        return "\"" + address + "\" (" + source + ")";
    }

    private static String truncated(String text) {
        return text.length() <= MAX_STRING ? text : text.substring(0, MAX_STRING) + "...";
    }

    /** Home relay names: what relays enroll with, at most {@link #MAX_STRING} characters. */
    private static final java.util.regex.Pattern RELAY_NAME =
            java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0," + (MAX_STRING - 1) + "}");

    /**
     * A reported home relay (docs/api.md): null for none, else a relay name of 1 to {@link #MAX_STRING} letters,
     * digits, dots, dashes and underscores. It is not checked against the relay list: a node may name a relay
     * control withdrew a moment ago, and its peers then use their own.
     */
    static String homeRelay(String homeRelay) {
        if (homeRelay == null) {
            return null;
        }
        if (!RELAY_NAME.matcher(homeRelay).matches()) {
            throw new ApiException(400, "homeRelay: a relay name of 1 to " + MAX_STRING
                    + " letters, digits, '.', '-' or '_'");
        }
        return homeRelay;
    }

    /**
     * The NAT report as kept: only the fields of {@code meshwork netcheck --json}, unknown ones dropped (a newer
     * node may send more; what is not known is not handed to peers). Each known field must have its type (or be
     * null), strings at most {@link #MAX_STRING} characters, lists at most {@link #MAX_LIST} items, and what is
     * kept at most {@link #MAX_NAT_BYTES} as JSON; else a 400 naming the field. Null stays null (no report).
     */
    static Map<String, Object> nat(Map<String, Object> nat, JsonSupport json) {
        if (nat == null) {
            return null;
        }
        Map<String, Object> kept = fields(nat, NAT_FIELDS, "nat.");
        int size;
        try {
            size = json.mapper().writeValueAsBytes(kept).length;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiException(400, "nat: not JSON");
        }
        if (size > MAX_NAT_BYTES) {
            throw new ApiException(400, "nat: at most " + MAX_NAT_BYTES + " bytes of JSON");
        }
        return kept;
    }

    private static Map<String, Object> fields(Map<?, ?> given, Map<String, Kind> known, String prefix) {
        Map<String, Object> kept = new LinkedHashMap<>();
        for (Map.Entry<?, ?> field : given.entrySet()) {
            Kind kind = known.get(String.valueOf(field.getKey()));
            if (kind != null) {
                String name = prefix + field.getKey();
                kept.put((String) field.getKey(), value(field.getValue(), kind, name));
            }
        }
        return kept;
    }

    private static Object value(Object value, Kind kind, String name) {
        if (value == null) {
            return null;
        }
        return switch (kind) {
            case BOOLEAN -> {
                if (!(value instanceof Boolean)) {
                    throw new ApiException(400, name + " must be true, false or null");
                }
                yield value;
            }
            case NUMBER -> {
                if (!(value instanceof Number number) || !Double.isFinite(number.doubleValue())) {
                    throw new ApiException(400, name + " must be a number or null");
                }
                yield value;
            }
            case STRING -> string(value, name);
            case STRINGS -> {
                List<Object> items = list(value, name);
                List<Object> strings = new ArrayList<>(items.size());
                for (int i = 0; i < items.size(); i++) {
                    strings.add(string(items.get(i), name + "[" + i + "]"));
                }
                yield strings;
            }
            case SERVERS -> {
                List<Object> items = list(value, name);
                List<Object> servers = new ArrayList<>(items.size());
                for (int i = 0; i < items.size(); i++) {
                    if (!(items.get(i) instanceof Map<?, ?> server)) {
                        throw new ApiException(400, name + "[" + i + "] must be an object");
                    }
                    servers.add(fields(server, SERVER_FIELDS, name + "[" + i + "]."));
                }
                yield servers;
            }
        };
    }

    private static String string(Object value, String name) {
        if (!(value instanceof String text)) {
            throw new ApiException(400, name + " must be a string");
        }
        if (text.length() > MAX_STRING) {
            throw new ApiException(400, name + ": at most " + MAX_STRING + " characters");
        }
        return text;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value, String name) {
        if (!(value instanceof List<?> items)) {
            throw new ApiException(400, name + " must be a list");
        }
        if (items.size() > MAX_LIST) {
            throw new ApiException(400, name + ": at most " + MAX_LIST + " items");
        }
        return (List<Object>) items;
    }
}
