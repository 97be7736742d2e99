package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;

import io.meshwork.control.organization.Organization;
import io.meshwork.control.relay.RelayDirectory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Who may call what (docs/api.md, "Conventions"): the bearer token of a request, and the checks the routes wrap
 * themselves in. The admin token is compared whole; organization, device and relay tokens are parsed
 * ({@link TokenKind}) and their secret checked against the hash their entity keeps. A missing or unknown credential
 * is a 401, a known one that may not do this a 403 ({@link #refused}), another organization's resource a 404.
 */
final class Authorization {

    private final byte[] adminToken;
    private final Entities entities;
    private final JsonSupport json;

    Authorization(String adminToken, Entities entities, JsonSupport json) {
        this.adminToken = adminToken.getBytes(StandardCharsets.UTF_8);
        this.entities = entities;
        this.json = json;
    }

    /** Runs {@code inner} with the request's bearer token; without one, a 401. */
    Route bearer(Function<String, Route> inner) {
        return optionalHeaderValueByName("Authorization", header -> {
            String token = header.filter(h -> h.startsWith("Bearer ")).map(h -> h.substring(7).strip())
                    .orElseThrow(() -> new ApiException(401, "missing bearer token (Authorization: Bearer ...)"));
            return inner.apply(token);
        });
    }

    boolean isAdmin(String token) {
        return MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), adminToken);
    }

    /** Runs {@code inner} when the token is the admin's. */
    Route adminOnly(String token, Supplier<Route> inner) {
        if (!isAdmin(token)) {
            Optional<TokenKind.Parsed> parsed = TokenKind.parseAny(token);
            throw new ApiException(parsed.isPresent() ? 403 : 401,
                    parsed.isPresent() ? "this needs the admin token" : "unknown token");
        }
        return inner.get();
    }

    /**
     * The answer to a token that is not of the kind a route needs ({@code needed}, as "a device token"): 403 when
     * it is a credential of another kind (the admin token, or a token of one of the other shapes), as
     * {@link #adminOnly} answers; 401 when it is none.
     */
    ApiException refused(String token, String needed) {
        boolean known = isAdmin(token) || TokenKind.parseAny(token).isPresent();
        return new ApiException(known ? 403 : 401, (known ? "this needs " : "unknown token; this needs ") + needed);
    }

    /** Runs {@code inner} with the organization's summary when the token is the admin's or that organization's. */
    Route withOrganization(String token, String organizationId, Function<Organization.Summary, Route> inner) {
        boolean admin = isAdmin(token);
        Optional<TokenKind.Parsed> parsed = TokenKind.ORGANIZATION.parse(token);
        if (!admin && parsed.isEmpty()) {
            throw refused(token, "the admin token or an organization API token");
        }
        if (!admin && !Validation.isOrganizationId(parsed.get().organizationId())) {
            throw new ApiException(401, "unknown token");
        }
        if (!admin && !parsed.get().organizationId().equals(organizationId)
                || !Validation.isOrganizationId(organizationId)) {
            throw new ApiException(404, "no such organization");
        }
        // The organization checks its API token: 401 unknown token when it is not this one.
        return entities.askOrganization(organizationId, admin ? Organization.Get::new
                : replyTo -> new Organization.Authorize(Tokens.hash(parsed.get().secret()), replyTo),
                reply -> inner.apply(reply.summary()));
    }

    /** Runs {@code inner} with the device as its entity has it, when the token may act on its organization. */
    Route withDevice(String token, String deviceId, Function<Organization.DeviceRecord, Route> inner) {
        if (!Validation.isDeviceId(deviceId)) {
            throw new ApiException(404, "no such device");
        }
        String organizationId = Tokens.organizationOfDevice(deviceId);
        // 404 no such device when the organization has none.
        return withOrganization(token, organizationId, summary -> entities.askOrganization(organizationId,
                replyTo -> new Organization.GetDevice(deviceId, replyTo), listed -> onSuccess(
                        entities.deviceAdopting(deviceId, () -> CompletableFuture.completedFuture(listed.device())),
                        reply -> reply.isOk() ? inner.apply(reply.device())
                                : json.error(reply.status(), reply.error()))));
    }

    /**
     * Runs {@code inner} with the organization id and the device a device token belongs to, as its own entity has
     * it: a device's requests need not pass through its organization. Revoked devices are refused, pending ones not.
     */
    Route withSelf(String token, BiFunction<String, Organization.DeviceRecord, Route> inner) {
        TokenKind.Parsed parsed = TokenKind.DEVICE.parse(token)
                .orElseThrow(() -> refused(token, "a device token"));
        String organizationId = parsed.organizationId();
        if (!Validation.isOrganizationId(organizationId) || !Validation.isDeviceId(parsed.id())) {
            throw new ApiException(401, "unknown device token");
        }
        return onSuccess(entities.deviceAdopting(parsed.id(), () -> entities.organization(organizationId,
                replyTo -> new Organization.GetDevice(parsed.id(), replyTo))
                .thenApply(reply -> reply.isOk() ? reply.device() : null)), reply -> {
            Organization.DeviceRecord device = reply.device();
            if (!reply.isOk() || !Tokens.sameHash(device.tokenHash(), parsed.secret())) {
                throw new ApiException(401, "unknown device token");
            }
            if (device.status().equals(Organization.DeviceRecord.REVOKED)) {
                throw new ApiException(403, "device revoked");
            }
            return inner.apply(organizationId, device);
        });
    }

    /** Runs {@code inner} when the token is the enrollment token of relay {@code relayId}. */
    Route withRelay(String token, String relayId, Function<RelayDirectory.State, Route> inner) {
        TokenKind.Parsed parsed = TokenKind.RELAY.parse(token)
                .orElseThrow(() -> refused(token, "the relay's token"));
        if (!Validation.isRelayId(relayId)) {
            throw new ApiException(404, "no such relay");
        }
        return onSuccess(entities.relayDirectory(RelayDirectory.Get::new), reply -> {
            RelayDirectory.Token known = reply.state().tokens().get(parsed.id());
            if (known == null || !Tokens.sameHash(known.secretHash(), parsed.secret())) {
                throw new ApiException(401, "unknown relay token");
            }
            if (!relayId.equals(known.relayId())) {
                throw new ApiException(403, "this token belongs to another relay");
            }
            return inner.apply(reply.state());
        });
    }
}
