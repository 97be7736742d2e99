package io.meshwork.protocol.api;

import java.util.List;
import java.util.Map;

/** {@code POST /api/v1/devices/self/endpoints}: a device's current endpoints and NAT report (netcheck fields). */
public record EndpointReport(List<Endpoint> endpoints, Map<String, Object> nat) {}
