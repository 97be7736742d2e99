package io.meshwork.control.http;

import io.meshwork.protocol.api.DnsRecord;
import io.meshwork.protocol.dns.DnsNames;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.net.IpLiteral;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * What a custom DNS record may hold (docs/api.md, "DNS"), checked before it reaches the organization's
 * {@code DnsSettings}: a 400 saying what is wrong otherwise. The record comes back canonical, its name relative to
 * the domain ("www", "@" for the apex).
 */
final class DnsRecordValidation {

    static final Set<String> TYPES = Set.of(DnsRecord.A, DnsRecord.AAAA, DnsRecord.CNAME, DnsRecord.TXT,
            DnsRecord.SRV);
    static final int MAX_TTL_SECONDS = 86_400;
    static final int MAX_TXT_BYTES = 2048;

    private DnsRecordValidation() {}

    /** {@code request} checked against {@code domain}, with {@code id}; a 400 when it cannot be a record. */
    static DnsRecord check(DnsRoutes.RecordRequest request, String domain, String id) {
        if (request == null) {
            throw new ApiException(400, "a record needs name, type and value");
        }
        String type = request.type() == null ? "" : request.type().strip().toUpperCase(Locale.ROOT);
        if (!TYPES.contains(type)) {
            throw new ApiException(400, "type must be one of A, AAAA, CNAME, TXT, SRV, not " + request.type());
        }
        String absolute;
        try {
            absolute = DnsNames.recordName(request.name(), domain);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "bad name: " + e.getMessage());
        }
        String relative = absolute.equals(domain) ? "@"
                : absolute.substring(0, absolute.length() - domain.length() - 1);
        int ttl = request.ttl() == null ? 0 : request.ttl();
        if (ttl < 0 || ttl > MAX_TTL_SECONDS) {
            throw new ApiException(400, "ttl must be 0 (the default) to " + MAX_TTL_SECONDS + " seconds");
        }
        if (request.value() == null || request.value().isBlank()) {
            throw new ApiException(400, "a " + type + " record needs a value");
        }
        String value = request.value().strip();
        switch (type) {
            case DnsRecord.A, DnsRecord.AAAA -> {
                try {
                    boolean v4 = IpLiteral.parse(value).getAddress().length == 4;
                    if (v4 != type.equals(DnsRecord.A)) {
                        throw new ApiException(400, "an " + type + " record needs an IPv" + (v4 ? "6" : "4")
                                + " address, not " + value);
                    }
                    value = IpLiteral.format(IpLiteral.parse(value));
                } catch (InvalidAddressException e) {
                    throw new ApiException(400, "not an IP address: " + value);
                }
            }
            case DnsRecord.CNAME -> value = target(value, "CNAME");
            case DnsRecord.TXT -> {
                if (value.getBytes(StandardCharsets.UTF_8).length > MAX_TXT_BYTES) {
                    throw new ApiException(400, "a TXT value is at most " + MAX_TXT_BYTES + " bytes");
                }
                if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                    throw new ApiException(400, "a TXT value has no control characters");
                }
            }
            case DnsRecord.SRV -> {
                String[] parts = value.split("\\s+");
                if (parts.length != 4) {
                    throw new ApiException(400, "an SRV value is PRIORITY WEIGHT PORT TARGET, as in "
                            + "\"10 5 5432 db-1\"");
                }
                for (int i = 0; i < 3; i++) {
                    if (!parts[i].matches("\\d{1,5}") || Integer.parseInt(parts[i]) > 65535) {
                        throw new ApiException(400, "SRV priority, weight and port are 0 to 65535: " + value);
                    }
                }
                value = parts[0] + " " + parts[1] + " " + parts[2] + " " + target(parts[3], "SRV");
            }
            default -> throw new ApiException(400, "unsupported type " + type);
        }
        return new DnsRecord(id, relative, type, value, ttl);
    }

    /** A target name: a label (relative to the domain) or a name with dots (absolute), lowercase. */
    private static String target(String value, String type) {
        String lower = value.toLowerCase(Locale.ROOT);
        String bare = lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
        if (bare.isEmpty() || bare.length() > DnsNames.MAX_NAME_LENGTH) {
            throw new ApiException(400, "a " + type + " target must be a domain name: " + value);
        }
        for (String label : bare.split("\\.", -1)) {
            if (!DnsNames.isLabel(label) && !label.matches("_[a-z0-9-]{1,62}")) {
                throw new ApiException(400, "a " + type + " target must be a domain name: " + value);
            }
        }
        return lower;
    }

    /** {@code name} as the records of {@code domain} hold it (relative, "@" for the apex); a 400 if it is none. */
    static String relativeName(String name, String domain) {
        try {
            String absolute = DnsNames.recordName(name, domain);
            return absolute.equals(domain) ? "@" : absolute.substring(0, absolute.length() - domain.length() - 1);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "bad name: " + e.getMessage());
        }
    }
}
