package io.meshwork.control.http.views;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.meshwork.control.organization.Ipam;
import io.meshwork.control.organization.Organization;

/** An organization; {@code apiToken} only in the answer to its creation, left out otherwise. */
public record OrganizationView(String id, String name, String ipv4Cidr, String ipv6Prefix, long createdAt,
        long revision, int devices, @JsonInclude(JsonInclude.Include.NON_NULL) String apiToken) {

    /** {@code apiToken}: null but in the answer to the creation. */
    public static OrganizationView of(Organization.Summary state, String apiToken) {
        return new OrganizationView(state.id(), state.name(), state.ipv4Cidr(), Ipam.ulaPrefix(state.id()),
                state.createdMillis(), state.revision(), state.deviceCount(), apiToken);
    }
}
