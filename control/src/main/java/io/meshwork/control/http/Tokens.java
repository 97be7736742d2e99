package io.meshwork.control.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Bearer secrets and the ids they carry. Only SHA-256 hashes of secrets are stored. Formats:
 * organization API token {@code mwo.ORG.SECRET}, registration key {@code mwk.ORG.KEY.SECRET}, device token
 * {@code mwd.DEVICE.SECRET} where a device id is {@code ORG-dHEX}.
 */
final class Tokens {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {}

    record Parsed(String kind, String organizationId, String id, String secret) {}

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

    /** Splits a bearer token into its parts; empty when it has none of the known shapes. */
    static Optional<Parsed> parse(String token) {
        if (token == null || token.length() > 512) {
            return Optional.empty();
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length == 3 && parts[0].equals("mwo")) {
            return Optional.of(new Parsed("mwo", parts[1], parts[1], parts[2]));
        }
        if (parts.length == 4 && parts[0].equals("mwk")) {
            return Optional.of(new Parsed("mwk", parts[1], parts[2], parts[3]));
        }
        if (parts.length == 3 && parts[0].equals("mwd")) {
            return Optional.of(new Parsed("mwd", organizationOfDevice(parts[1]), parts[1], parts[2]));
        }
        return Optional.empty();
    }
}
