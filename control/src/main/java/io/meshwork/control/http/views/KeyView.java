package io.meshwork.control.http.views;

import java.util.List;

import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.RouteTable;

/**
 * A registration key without its secret; {@code expiresAt} is {@code null} for a key that never expires;
 * {@code tags}: stamped on the devices it registers; {@code autoApproveRoutes}: the routes of its devices approved
 * without an administrator ({@code null}: none).
 */
public record KeyView(String id, boolean reusable, long createdAt, Long expiresAt, boolean revoked, int uses,
        boolean approvalRequired, List<String> tags, RouteTable.AutoApprove autoApproveRoutes) {

    public static KeyView of(Organization.KeySummary key) {
        return new KeyView(key.id(), key.reusable(), key.createdMillis(),
                key.expiresAtMillis() == 0 ? null : key.expiresAtMillis(), key.revoked(), key.uses(),
                key.approvalRequired(), key.tags(), key.autoApproveRoutes());
    }
}
