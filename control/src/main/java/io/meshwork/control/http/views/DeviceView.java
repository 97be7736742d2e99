package io.meshwork.control.http.views;

import io.meshwork.control.organization.Organization;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.RouteStatus;
import io.meshwork.protocol.dns.DnsNames;
import java.util.List;
import java.util.Map;

/**
 * A device as administrators see it; {@code nat} is the node's last NAT report ({@code null} before one);
 * {@code tags}, which security groups name it by, are set by administrators and registration keys only.
 * {@code routes}: its subnet routes and exit node (absent when it has none; in listings only).
 * {@code dnsName} the DNS label its name has under the organization's domain (its hostname in DNS-safe form).
 * {@code relayAllowed}: whether the device may run a relay for its organization ({@code node up --relay}), which
 * only an administrator or the organization's API token allows.
 * {@code homeRelay} the relay the node last reported as its home ({@code null} when it reported none).
 */
public record DeviceView(String id, String hostname, String publicKey, List<String> overlayIps,
        List<Endpoint> endpoints, Map<String, Object> nat, Map<String, String> metadata, String status,
        long registeredAt, long lastSeen, List<String> tags, String dnsName, boolean relayAllowed,
        @JsonInclude(JsonInclude.Include.NON_NULL) RouteStatus routes, String homeRelay) {

    public static DeviceView of(Organization.DeviceRecord device) {
        return of(device, null);
    }

    /** {@code routes}: the device's subnet routes and exit node, when it advertises or had any decided. */
    public static DeviceView of(Organization.DeviceRecord device, RouteStatus routes) {
        return new DeviceView(device.id(), device.hostname(), device.publicKey(), device.overlayIps(),
                device.endpoints(), device.nat(), device.metadata(), device.status(), device.registeredMillis(),
                device.lastSeenMillis(), device.tags(), DnsNames.label(device.hostname(), device.id()),
                device.relayAllowed(), routes, device.homeRelay());
    }
}
