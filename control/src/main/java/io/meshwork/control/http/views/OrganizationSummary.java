package io.meshwork.control.http.views;

import io.meshwork.control.organization.Ipam;
import io.meshwork.control.organization.OrganizationDirectory;

/** An organization in {@code GET /api/v1/organizations}. */
public record OrganizationSummary(String id, String name, String ipv4Cidr, String ipv6Prefix, long createdAt) {

    public static OrganizationSummary of(OrganizationDirectory.Entry entry) {
        return new OrganizationSummary(entry.id(), entry.name(), entry.ipv4Cidr(), Ipam.ulaPrefix(entry.id()),
                entry.createdMillis());
    }
}
