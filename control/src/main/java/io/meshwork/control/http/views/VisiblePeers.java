package io.meshwork.control.http.views;

import java.util.List;

/**
 * {@code GET /api/v1/devices/{id}/peers}: the devices {@code device} may learn under its organization's security
 * groups at {@code revision}, by hostname: exactly the peers its peer map holds.
 */
public record VisiblePeers(String device, long revision, int total, List<DeviceView> peers) {}
