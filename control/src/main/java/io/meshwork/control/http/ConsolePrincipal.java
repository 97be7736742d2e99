package io.meshwork.control.http;

/**
 * Whom a console session or login link stands for: the bearer token it acts with (the admin token or an
 * organization API token, kept in this member's memory only) and what that token may see, for the console to show.
 * {@code organizationId} is null for the admin.
 */
record ConsolePrincipal(String bearer, boolean admin, String organizationId) {

    @Override
    public String toString() {
        // Never the bearer: principals may end up in log lines.
        return admin ? "admin" : "organization " + organizationId;
    }
}
