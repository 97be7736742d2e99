package io.meshwork.control.http.views;

import java.util.List;

/**
 * {@code GET /api/v1/organizations/{id}/paths}, and each event of its live stream: the devices' latest path reports
 * ({@code removed}: devices whose reports went since the stream's last event; empty in the listing). {@code sequence}
 * orders the answers of this control member.
 */
public record OrganizationPaths(String organizationId, long sequence, List<DevicePathsView> devices,
        List<String> removed) {}
