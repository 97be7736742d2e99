package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import io.meshwork.control.http.views.Deleted;
import io.meshwork.control.http.views.OrganizationPage;
import io.meshwork.control.http.views.OrganizationSummary;
import io.meshwork.control.http.views.OrganizationView;
import io.meshwork.control.organization.Ipam;
import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.OrganizationDirectory;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Organizations: {@code /api/v1/organizations} and {@code /api/v1/organizations/{id}}. Creating and deleting one
 * takes the admin token; reading one takes the admin token or its API token; the listing shows every organization
 * to the admin token and only its own to an organization API token.
 */
final class OrganizationRoutes {

    private final Authorization auth;
    private final Entities entities;
    private final JsonSupport json;
    private final String defaultIpv4Cidr;

    OrganizationRoutes(Authorization auth, Entities entities, JsonSupport json, String defaultIpv4Cidr) {
        this.auth = auth;
        this.entities = entities;
        this.json = json;
        this.defaultIpv4Cidr = defaultIpv4Cidr;
    }

    Route routes() {
        return pathPrefix("organizations", () -> concat(
                pathEnd(() -> concat(
                        post(() -> auth.bearer(token -> json.body(Requests.CreateOrganization.class,
                                request -> create(token, request)))),
                        get(() -> auth.bearer(token -> parameterOptional("name", name ->
                                parameterOptional("offset", offset -> parameterOptional("limit", limit ->
                                        list(token, name, offset, limit)))))))),
                path(PathMatchers.segment(), organizationId -> concat(
                        get(() -> auth.bearer(token -> auth.withOrganization(token, organizationId,
                                state -> json.ok(OrganizationView.of(state, null))))),
                        delete(() -> auth.bearer(token -> auth.adminOnly(token, () -> remove(organizationId))))))));
    }

    private Route create(String token, Requests.CreateOrganization request) {
        return auth.adminOnly(token, () -> {
            if (request.name() == null || request.name().isBlank() || request.name().length() > 64) {
                throw new ApiException(400, "name is required, 1 to 64 characters");
            }
            String cidr = request.ipv4Cidr() == null ? defaultIpv4Cidr : request.ipv4Cidr();
            try {
                cidr = Ipam.Cidr.parse(cidr).toString();
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, "bad ipv4Cidr: " + e.getMessage());
            }
            String id = Tokens.newOrganizationId();
            String secret = Tokens.randomHex(24);
            String apiToken = TokenKind.ORGANIZATION.format(id, secret);
            String finalCidr = cidr;
            String name = request.name().strip();
            long now = System.currentTimeMillis();
            // Listed first: should the creation then fail, the listing shows an organization that answers 404,
            // which DELETE clears; the other order could leave one that exists but nobody can find.
            var listed = entities.<OrganizationDirectory.Reply>organizationDirectory(replyTo ->
                    new OrganizationDirectory.Add(new OrganizationDirectory.Entry(id, name, finalCidr, now), replyTo));
            return onSuccess(listed, done -> entities.askOrganization(id, replyTo -> new Organization.Create(name,
                    finalCidr, Tokens.hash(secret), now, replyTo),
                    reply -> json.created(OrganizationView.of(reply.summary(), apiToken))));
        });
    }

    /**
     * Deletes the organization, revokes its devices' certificates with the relays, and unlists it; also clears a
     * listing whose organization is already gone. Each step can be repeated: a deleted organization still answers
     * its devices' serials, so a retry after a failed step (503) sends the revocations again and unlists it.
     */
    private Route remove(String organizationId) {
        if (!Validation.isOrganizationId(organizationId)) {
            throw new ApiException(404, "no such organization");
        }
        CompletionStage<Organization.Reply> deleted = entities.organization(organizationId, Organization.Delete::new);
        return onSuccess(deleted.thenCompose(reply -> entities.revokeCertificates(reply.certificateSerials())
                        .thenCompose(revoked -> entities.withdrawOrganizationRelays(organizationId))
                        .thenCompose(revoked -> entities.<OrganizationDirectory.Reply>organizationDirectory(
                                replyTo -> new OrganizationDirectory.Remove(organizationId, replyTo)))
                        .thenApply(unlisted -> reply.isOk() || unlisted.changed())),
                done -> done ? json.ok(new Deleted(organizationId)) : json.error(404, "no such organization"));
    }

    /** Every organization for the admin token; only its own for an organization's API token. */
    private Route list(String token, Optional<String> name, Optional<String> offsetText, Optional<String> limitText) {
        int offset = Validation.number(offsetText, 0, "offset");
        int limit = Validation.limit(limitText);
        if (name.isPresent() && name.get().length() > 64) {
            throw new ApiException(400, "name filter: at most 64 characters");
        }
        if (auth.isAdmin(token)) {
            return onSuccess(entities.<OrganizationDirectory.Page>organizationDirectory(replyTo ->
                    new OrganizationDirectory.GetPage(name.orElse(null), offset, limit, replyTo)),
                    page -> json.ok(new OrganizationPage(page.total(), offset,
                            page.organizations().stream().map(OrganizationSummary::of).toList())));
        }
        TokenKind.Parsed parsed = TokenKind.parseAny(token).orElseThrow(() -> new ApiException(401, "unknown token"));
        if (parsed.kind() != TokenKind.ORGANIZATION) {
            throw new ApiException(403, "listing organizations needs the admin token or an organization API token");
        }
        CompletionStage<Organization.Reply> reply = !Validation.isOrganizationId(parsed.organizationId())
                ? CompletableFuture.completedFuture(new Organization.Reply(404, "no such organization", null, null, null))
                : entities.organization(parsed.organizationId(),
                        replyTo -> new Organization.Authorize(Tokens.hash(parsed.secret()), replyTo));
        return onSuccess(reply, answer -> {
            // A token of an organization that does not exist is as unknown as a forged one.
            if (!answer.isOk()) {
                throw new ApiException(401, "unknown token");
            }
            Organization.Summary state = answer.summary();
            boolean matches = name.map(filter -> state.name().contains(filter)).orElse(true);
            List<OrganizationSummary> own = matches
                    ? List.of(OrganizationSummary.of(new OrganizationDirectory.Entry(state.id(), state.name(),
                            state.ipv4Cidr(), state.createdMillis())))
                    : List.of();
            return json.ok(new OrganizationPage(own.size(), offset, own.stream().skip(offset).toList()));
        });
    }
}
