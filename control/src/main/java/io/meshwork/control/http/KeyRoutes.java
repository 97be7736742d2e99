package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import io.meshwork.control.http.views.KeyCreated;
import io.meshwork.control.http.views.KeyView;
import io.meshwork.control.organization.Organization;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Registration keys: {@code /api/v1/organizations/{id}/keys} and {@code .../keys/{keyId}}, for the admin token or
 * the organization's API token. A key's secret is shown once, in the answer to its creation.
 */
final class KeyRoutes {

    /** The longest a key may be valid: ten years. */
    private static final long MAX_EXPIRY_SECONDS = 10L * 365 * 86400;

    private final Authorization auth;
    private final Entities entities;
    private final JsonSupport json;
    private final String controlPin;

    /** {@code controlPin}: the API certificate's pin, answered with a new key; null over plain HTTP. */
    KeyRoutes(Authorization auth, Entities entities, JsonSupport json, String controlPin) {
        this.auth = auth;
        this.entities = entities;
        this.json = json;
        this.controlPin = controlPin;
    }

    Route routes() {
        return pathPrefix(PathMatchers.segment("organizations").slash(PathMatchers.segment()).slash("keys"),
                organizationId -> concat(
                        pathEnd(() -> concat(
                                post(() -> auth.bearer(token -> json.body(Requests.CreateKey.class, request ->
                                        auth.withOrganization(token, organizationId,
                                                state -> create(organizationId, request))))),
                                get(() -> auth.bearer(token -> auth.withOrganization(token, organizationId,
                                        state -> json.ok(state.keys().values().stream().map(KeyView::of)
                                                .toList())))))),
                        path(PathMatchers.segment(), keyId -> delete(() -> auth.bearer(token ->
                                auth.withOrganization(token, organizationId, state -> entities.askOrganization(
                                        organizationId, replyTo -> new Organization.RevokeKey(keyId, replyTo),
                                        reply -> json.ok(KeyView.of(reply.summary().keys().get(keyId))))))))));
    }

    private Route create(String organizationId, Requests.CreateKey request) {
        boolean reusable = request.reusable() != null && request.reusable();
        boolean approvalRequired = request.approvalRequired() != null && request.approvalRequired();
        long expiresIn = request.expiresInSeconds() == null ? 0 : request.expiresInSeconds();
        java.util.List<String> tags = request.tags() == null ? java.util.List.of() : Validation.tags(request.tags());
        var autoApprove = Validation.autoApprove(request.autoApproveRoutes(), "autoApproveRoutes");
        if (expiresIn < 0 || expiresIn > MAX_EXPIRY_SECONDS) {
            throw new ApiException(400, "expiresInSeconds must be between 0 (never) and 10 years");
        }
        String keyId = "k" + Tokens.randomHex(4);
        String secret = Tokens.randomHex(24);
        long now = System.currentTimeMillis();
        long expiresAt = expiresIn == 0 ? 0 : now + expiresIn * 1000;
        return entities.askOrganization(organizationId, replyTo -> new Organization.CreateKey(keyId,
                Tokens.hash(secret), reusable, expiresAt, now, approvalRequired, tags, autoApprove, replyTo),
                reply -> json.created(KeyCreated.of(reply.summary().keys().get(keyId),
                        TokenKind.REGISTRATION_KEY.format(organizationId, keyId, secret), controlPin)));
    }
}
