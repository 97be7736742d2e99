package io.meshwork.protocol.relay;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a device certificate issued by the control CA carries the device's identity, so that control can
 * write it and relays can read it without depending on each other (docs/architecture.md, "Modules"):
 *
 * <ul>
 *   <li>the device id is the subject's common name (CN);
 *   <li>the WireGuard public key is a subjectAltName URI {@code urn:meshwork:wireguard:<64 lowercase hex>}, or,
 *       failing that, the certificate's own subject public key when it is an X25519 key (RFC 8410).
 * </ul>
 */
public final class DeviceCertificateProfile {

    /** The prefix of the subjectAltName URI that carries the WireGuard key in hex. */
    public static final String WIREGUARD_KEY_URI_PREFIX = "urn:meshwork:wireguard:";
    /** RFC 8410 §3: the algorithm identifier of an X25519 subject public key. */
    public static final String X25519_OID = "1.3.101.110";

    private DeviceCertificateProfile() {}

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
