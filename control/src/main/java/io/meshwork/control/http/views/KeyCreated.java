package io.meshwork.control.http.views;

import io.meshwork.control.organization.Organization;

/** The answer to a key's creation: the key as {@link KeyView} has it, then the key itself, shown this once. */
public record KeyCreated(String id, boolean reusable, long createdAt, Long expiresAt, boolean revoked, int uses,
        boolean approvalRequired, String key) {

    public static KeyCreated of(Organization.KeySummary created, String key) {
        KeyView view = KeyView.of(created);
        return new KeyCreated(view.id(), view.reusable(), view.createdAt(), view.expiresAt(), view.revoked(),
                view.uses(), view.approvalRequired(), key);
    }
}
