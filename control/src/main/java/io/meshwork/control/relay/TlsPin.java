package io.meshwork.control.relay;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The pin of a relay's TLS certificate: the SHA-256 of its leaf certificate's DER, as 64 lowercase hex digits.
 * Devices trust exactly the pinned certificate, so relays need no certificate authority.
 */
public final class TlsPin {

    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    private TlsPin() {}

    /**
     * The pin in canonical form, or null when {@code text} is null or blank (the relay speaks plain TCP). Colons
     * between bytes, as {@code openssl x509 -fingerprint -sha256} prints them, are accepted.
     *
     * @throws IllegalArgumentException when {@code text} is not a SHA-256 in hex
     */
    public static String normalize(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String pin = text.strip().replace(":", "").toLowerCase(Locale.ROOT);
        if (!SHA256_HEX.matcher(pin).matches()) {
            throw new IllegalArgumentException("a TLS pin is the SHA-256 of the DER certificate in hex (64 digits)");
        }
        return pin;
    }
}
