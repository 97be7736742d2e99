package io.meshwork.control.http.views;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.meshwork.control.organization.Organization;

/**
 * The answer to a key's creation: the key as {@link KeyView} has it, then the key itself, shown this once, and
 * {@code controlPin}, the pin of control's TLS certificate a node passes as {@code --control-pin} (absent over
 * plain HTTP).
 */
public record KeyCreated(String id, boolean reusable, long createdAt, Long expiresAt, boolean revoked, int uses,
        boolean approvalRequired, java.util.List<String> tags,
        @JsonInclude(JsonInclude.Include.NON_NULL) io.meshwork.control.organization.RouteTable.AutoApprove
                autoApproveRoutes, String key,
        @JsonInclude(JsonInclude.Include.NON_NULL) String controlPin) {

    public static KeyCreated of(Organization.KeySummary created, String key, String controlPin) {
        KeyView view = KeyView.of(created);
        return new KeyCreated(view.id(), view.reusable(), view.createdAt(), view.expiresAt(), view.revoked(),
                view.uses(), view.approvalRequired(), view.tags(), view.autoApproveRoutes(), key, controlPin);
    }
}
