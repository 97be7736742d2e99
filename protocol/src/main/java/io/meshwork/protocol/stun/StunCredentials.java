package io.meshwork.protocol.stun;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/** Keys for MESSAGE-INTEGRITY. */
public final class StunCredentials {

    private StunCredentials() {
    }

    /**
     * RFC 8489 §9.1.1: the short-term credential key is the password after OpaqueString processing
     * (RFC 8265 §4.2): non-ASCII spaces become U+0020, then Unicode NFC; the result as UTF-8.
     */
    public static byte[] shortTermKey(String password) {
        StringBuilder mapped = new StringBuilder(password.length());
        password.codePoints().forEach(codePoint -> {
            if (codePoint != ' ' && Character.getType(codePoint) == Character.SPACE_SEPARATOR) {
                mapped.append(' ');
            } else {
                mapped.appendCodePoint(codePoint);
            }
        });
        return Normalizer.normalize(mapped, Normalizer.Form.NFC).getBytes(StandardCharsets.UTF_8);
    }
}
