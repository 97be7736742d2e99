package io.meshwork.protocol.api;

import java.util.List;
import java.util.Map;

/**
 * {@code POST /api/v1/devices/self/endpoints}: a device's current endpoints and NAT report (netcheck fields), and
 * its home relay (docs/architecture.md, "Relay selection and failover"): the name of the relay it keeps a
 * connection to and where peers send it relayed traffic; null when it has none or does not say (older nodes).
 */
public record EndpointReport(List<Endpoint> endpoints, Map<String, Object> nat, String homeRelay) {

    /** A report without a home relay. */
    public EndpointReport(List<Endpoint> endpoints, Map<String, Object> nat) {
        this(endpoints, nat, null);
    }
}
