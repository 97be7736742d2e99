package io.meshwork.protocol.relay;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where a device certificate issued by the control CA carries the device's identity, so that control can
 * write it and relays can read it without depending on each other (docs/architecture.md, "Modules"):
 *
 * <ul>
 *   <li>the device id is the subject's common name (CN);
 *   <li>the WireGuard public key is a subjectAltName URI {@code urn:meshwork:wireguard:<64 lowercase hex>}, or,
 *       failing that, the certificate's own subject public key when it is an X25519 key (RFC 8410);
 *   <li>the organization the device belongs to is a subjectAltName URI {@code urn:meshwork:organization:<id>}
 *       (at most one). Relays forward only between devices of one organization; a certificate without one
 *       (issued before organizations were written into certificates) belongs to no organization and reaches only
 *       devices that belong to none either.
 * </ul>
 */
public final class DeviceCertificateProfile {

    /** The prefix of the subjectAltName URI that carries the WireGuard key in hex. */
    public static final String WIREGUARD_KEY_URI_PREFIX = "urn:meshwork:wireguard:";
    /** The prefix of the subjectAltName URI that carries the organization id. */
    public static final String ORGANIZATION_URI_PREFIX = "urn:meshwork:organization:";
    /** RFC 8410 §3: the algorithm identifier of an X25519 subject public key. */
    public static final String X25519_OID = "1.3.101.110";

    /** What an organization id may look like inside a certificate (control's ids are {@code o} + 12 hex digits). */
    private static final Pattern ORGANIZATION_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private DeviceCertificateProfile() {}

    /** The subjectAltName URI naming organization {@code organizationId}. */
    public static String organizationUri(String organizationId) {
        if (!ORGANIZATION_ID.matcher(organizationId).matches()) {
            throw new IllegalArgumentException("not an organization id: " + organizationId);
        }
        return ORGANIZATION_URI_PREFIX + organizationId;
    }

    /** Whether {@code uri} is an organization URI at all (well-formed or not). */
    public static boolean isOrganizationUri(String uri) {
        return uri.regionMatches(true, 0, ORGANIZATION_URI_PREFIX, 0, ORGANIZATION_URI_PREFIX.length());
    }

    /** The organization id named by an organization URI, or empty when it is malformed or not one. */
    public static Optional<String> parseOrganizationUri(String uri) {
        if (!isOrganizationUri(uri)) {
            return Optional.empty();
        }
        String id = uri.substring(ORGANIZATION_URI_PREFIX.length());
        return ORGANIZATION_ID.matcher(id).matches() ? Optional.of(id) : Optional.empty();
    }

    /** The subjectAltName URI naming {@code key}. */
    public static String wireGuardKeyUri(RelayKey key) {
        return WIREGUARD_KEY_URI_PREFIX + HexFormat.of().formatHex(key.unsafeBytes());
    }

    /** The key named by a subjectAltName URI, or empty when the URI is not one of ours or is malformed. */
    public static Optional<RelayKey> parseWireGuardKeyUri(String uri) {
        if (!uri.toLowerCase(Locale.ROOT).startsWith(WIREGUARD_KEY_URI_PREFIX)) {
            return Optional.empty();
        }
        String hex = uri.substring(WIREGUARD_KEY_URI_PREFIX.length());
        if (hex.length() != 2 * RelayKey.LENGTH) {
            return Optional.empty();
        }
        try {
            return Optional.of(RelayKey.wrap(HexFormat.of().parseHex(hex)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
