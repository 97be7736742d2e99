package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;

import io.meshwork.control.http.views.Deleted;
import io.meshwork.control.http.views.SecurityGroupView;
import io.meshwork.control.organization.Organization;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Security groups: {@code /api/v1/organizations/{id}/security-groups} and {@code .../security-groups/{name}}, for
 * the admin token or the organization's API token. What a group may hold is checked by
 * {@link Validation#securityGroup}.
 */
final class SecurityGroupRoutes {

    private final Authorization auth;
    private final Entities entities;
    private final JsonSupport json;

    SecurityGroupRoutes(Authorization auth, Entities entities, JsonSupport json) {
        this.auth = auth;
        this.entities = entities;
        this.json = json;
    }

    Route routes() {
        return pathPrefix(PathMatchers.segment("organizations").slash(PathMatchers.segment()).slash("security-groups"),
                organizationId -> concat(
                        pathEnd(() -> concat(
                                get(() -> auth.bearer(token -> auth.withOrganization(token, organizationId,
                                        state -> json.ok(state.securityGroups().values().stream()
                                                .map(SecurityGroupView::of).toList())))),
                                post(() -> auth.bearer(token -> json.body(Organization.SecurityGroup.class, group ->
                                        auth.withOrganization(token, organizationId, state -> save(state,
                                                Validation.securityGroup(state, group, null),
                                                StatusCodes.CREATED))))))),
                        path(PathMatchers.segment(), name -> group(organizationId, name))));
    }

    private Route group(String organizationId, String name) {
        return concat(
                get(() -> auth.bearer(token -> auth.withOrganization(token, organizationId, state -> {
                    Organization.SecurityGroup group = state.securityGroups().get(name);
                    if (group == null) {
                        throw new ApiException(404, "no such security group");
                    }
                    return json.ok(SecurityGroupView.of(group));
                }))),
                put(() -> auth.bearer(token -> json.body(Organization.SecurityGroup.class, group ->
                        auth.withOrganization(token, organizationId, state -> save(state,
                                Validation.securityGroup(state, group, name), StatusCodes.OK))))),
                delete(() -> auth.bearer(token -> auth.withOrganization(token, organizationId, state ->
                        entities.askOrganization(organizationId,
                                replyTo -> new Organization.DeleteSecurityGroup(name, replyTo),
                                reply -> json.ok(new Deleted(name)))))));
    }

    private Route save(Organization.Summary state, Organization.SecurityGroup group, StatusCode status) {
        return entities.askOrganization(state.id(), replyTo -> new Organization.SaveSecurityGroup(group, replyTo),
                reply -> json.respond(status, SecurityGroupView.of(group)));
    }
}
