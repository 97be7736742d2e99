package io.meshwork.control.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Bearer secrets and the ids they carry: random secrets and ids, and the SHA-256 hashes that are all that is stored
 * of a secret. The shapes of the tokens themselves are {@link TokenKind}'s.
 */
final class Tokens {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {}

    static String randomHex(int bytes) {
        byte[] random = new byte[bytes];
        RANDOM.nextBytes(random);
        return HexFormat.of().formatHex(random);
    }

    static String newOrganizationId() {
        return "o" + randomHex(6);
    }

    static String newDeviceId(String organizationId) {
        return organizationId + "-d" + randomHex(6);
    }

    static String organizationOfDevice(String deviceId) {
        int dash = deviceId.indexOf('-');
        return dash > 0 ? deviceId.substring(0, dash) : "";
    }

    static String hash(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean sameHash(String expectedHash, String secret) {
        return expectedHash != null && MessageDigest.isEqual(expectedHash.getBytes(StandardCharsets.US_ASCII),
                hash(secret).getBytes(StandardCharsets.US_ASCII));
    }
}
