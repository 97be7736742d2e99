package io.meshwork.control.http;

import java.util.Map;

/** Bodies of admin API requests. Unknown fields are rejected. */
final class Requests {

    private Requests() {}

    record CreateOrganization(String name, String ipv4Cidr) {}

    record CreateKey(Boolean reusable, Long expiresInSeconds) {}

    record PatchDevice(String hostname, Map<String, String> metadata) {}
}
