package io.meshwork.control.http;

import java.util.Optional;

/**
 * The kinds of bearer token and their shapes (docs/api.md, "Conventions"): a prefix, then dot-separated parts.
 * {@link #format} writes one, {@link #parse} reads one back into its {@link Parsed} parts; only SHA-256 hashes of
 * the secrets are stored (see {@link Tokens}).
 *
 * <p>The admin token is whatever string is configured and is compared whole; {@code mwa.SECRET} is only the shape
 * of a generated one, so {@link #parse} never answers {@link #ADMIN}.
 */
public enum TokenKind {

    /** {@code mwa.SECRET}: a generated admin token. */
    ADMIN("mwa", 1),
    /** {@code mwo.ORG.SECRET}: an organization's API token. */
    ORGANIZATION("mwo", 2),
    /** {@code mwk.ORG.KEY.SECRET}: a registration key. */
    REGISTRATION_KEY("mwk", 3),
    /** {@code mwd.DEVICE.SECRET}: a device token; the device id carries the organization ({@code ORG-dHEX}). */
    DEVICE("mwd", 2),
    /** {@code mwr.TOKEN.SECRET}: a relay enrollment token. */
    RELAY("mwr", 2);

    /** Longer bearer tokens are none of these. */
    private static final int MAX_LENGTH = 512;

    private final String prefix;
    private final int parts;

    TokenKind(String prefix, int parts) {
        this.prefix = prefix;
        this.parts = parts;
    }

    /** The token's parts: its organization ({@code ""} for relay tokens), its own id and its secret. */
    public record Parsed(TokenKind kind, String organizationId, String id, String secret) {}

    public String prefix() {
        return prefix;
    }

    /**
     * The token of this kind made of {@code parts}, in the order of its shape (ids first, the secret last).
     *
     * @throws IllegalArgumentException when their number does not fit the shape
     */
    public String format(String... parts) {
        if (parts.length != this.parts) {
            throw new IllegalArgumentException(prefix + " tokens have " + this.parts + " parts, not " + parts.length);
        }
        return prefix + "." + String.join(".", parts);
    }

    /** {@code token} as one of this kind; empty when it is not one. */
    public Optional<Parsed> parse(String token) {
        return parseAny(token).filter(parsed -> parsed.kind() == this);
    }

    /** {@code token} split into its parts; empty when it has none of the known shapes (or is an admin token). */
    public static Optional<Parsed> parseAny(String token) {
        if (token == null || token.length() > MAX_LENGTH) {
            return Optional.empty();
        }
        String[] parts = token.split("\\.", -1);
        for (TokenKind kind : values()) {
            if (kind != ADMIN && parts.length == kind.parts + 1 && parts[0].equals(kind.prefix)) {
                return Optional.of(kind.parsed(parts));
            }
        }
        return Optional.empty();
    }

    private Parsed parsed(String[] parts) {
        return switch (this) {
            case ORGANIZATION -> new Parsed(this, parts[1], parts[1], parts[2]);
            case REGISTRATION_KEY -> new Parsed(this, parts[1], parts[2], parts[3]);
            case DEVICE -> new Parsed(this, Tokens.organizationOfDevice(parts[1]), parts[1], parts[2]);
            case RELAY -> new Parsed(this, "", parts[1], parts[2]);
            case ADMIN -> throw new IllegalStateException("admin tokens are compared whole");
        };
    }
}
