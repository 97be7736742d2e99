package io.meshwork.control.http.views;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * {@code POST} and {@code GET /api/v1/ui/session}: the console session's CSRF token (sent back as
 * {@code X-CSRF-Token} on every request that changes something), when the session ends at the latest, and whom it
 * acts for: the admin (every organization) or one organization.
 */
public record ConsoleSessionView(String csrfToken, long expiresAt, boolean admin,
        @JsonInclude(JsonInclude.Include.NON_NULL) String organizationId) {}
