package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.patch;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;

import io.meshwork.control.http.views.Deleted;
import io.meshwork.control.http.views.DevicePage;
import io.meshwork.control.http.views.DeviceView;
import io.meshwork.control.http.views.VisiblePeers;
import io.meshwork.control.organization.Device;
import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.RouteTable;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Devices as administrators see them: {@code /api/v1/organizations/{id}/devices} (the listing) and
 * {@code /api/v1/devices/{id}} with {@code approve}, {@code revoke} and {@code peers} (the devices it may learn
 * under the security groups), for the admin token or the device's organization's API token. Revoking or deleting a
 * device, or patching {@code relayAllowed} to false, also withdraws the relay it runs for its organization. A device's own routes are {@link NodeRoutes}'.
 */
final class DeviceRoutes {

    private final Authorization auth;
    private final Entities entities;
    private final JsonSupport json;

    DeviceRoutes(Authorization auth, Entities entities, JsonSupport json) {
        this.auth = auth;
        this.entities = entities;
        this.json = json;
    }

    Route routes() {
        return concat(
                path(PathMatchers.segment("organizations").slash(PathMatchers.segment()).slash("devices"),
                        organizationId -> get(() -> auth.bearer(token -> auth.withOrganization(token, organizationId,
                                state -> listing(organizationId))))),
                path(PathMatchers.segment("organizations").slash(PathMatchers.segment()).slash("route-approvers"),
                        organizationId -> concat(
                                get(() -> auth.bearer(token -> auth.withOrganization(token, organizationId,
                                        state -> json.ok(new Requests.RouteApprovers(approversView(state)))))),
                                put(() -> auth.bearer(token -> json.body(Requests.RouteApprovers.class, request ->
                                        auth.withOrganization(token, organizationId,
                                                state -> saveApprovers(organizationId, request))))))),
                pathPrefix(PathMatchers.segment("devices").slash(PathMatchers.segment()), this::device));
    }

    private Route device(String deviceId) {
        String organizationId = Tokens.organizationOfDevice(deviceId);
        return concat(
                pathEnd(() -> concat(
                        get(() -> auth.bearer(token -> auth.withDevice(token, deviceId,
                                device -> json.ok(DeviceView.of(device))))),
                        patch(() -> auth.bearer(token -> json.body(Requests.PatchDevice.class, request ->
                                auth.withDevice(token, deviceId, device -> applyPatch(device, request))))),
                        delete(() -> auth.bearer(token -> remove(token, organizationId, deviceId))))),
                path("routes", () -> post(() -> auth.bearer(token -> json.body(Requests.ReviewRoutes.class,
                        request -> auth.withDevice(token, deviceId, device -> review(device, request)))))),
                path("peers", () -> get(() -> auth.bearer(token -> auth.withDevice(token, deviceId,
                        this::visiblePeers)))),
                // The device first, then the peer map; approving again is harmless, so a failed second step is
                // finished by a retry.
                path("approve", () -> post(() -> auth.bearer(token -> auth.withDevice(token, deviceId, device ->
                        entities.askDevice(deviceId, Device.Approve::new, approved -> entities.askOrganization(
                                organizationId, replyTo -> new Organization.ApproveDevice(deviceId, replyTo),
                                reply -> json.ok(DeviceView.of(approved.device())))))))),
                // The device first: its token stops working before the peer map drops it.
                path("revoke", () -> post(() -> auth.bearer(token -> auth.withDevice(token, deviceId, device ->
                        entities.askDevice(deviceId, Device.Revoke::new, revoked -> entities.askOrganization(
                                organizationId, replyTo -> new Organization.RevokeDevice(deviceId, replyTo),
                                reply -> onSuccess(entities.revokeCertificate(revoked.device())
                                                .thenCompose(done -> entities.withdrawDeviceRelay(deviceId)),
                                        done -> json.ok(DeviceView.of(revoked.device()))))))))));
    }

    /**
     * The certificate first: revoking it again is harmless, so a failed ask (503) is finished by a retry. Then the
     * organization: once it has let go of the device, nothing brings it back, and its peer stream ends. Then the
     * device's entity, so its token stops working. A deletion that failed after the organization let go is
     * finished by a retry too: the device's entity still has it, and is asked for its certificate instead.
     */
    private Route remove(String token, String organizationId, String deviceId) {
        if (!Validation.isDeviceId(deviceId)) {
            throw new ApiException(404, "no such device");
        }
        return auth.withOrganization(token, organizationId, summary -> onSuccess(entities.organization(
                organizationId, replyTo -> new Organization.GetDevice(deviceId, replyTo)), listed -> {
                    if (listed.isOk()) {
                        return auth.withDevice(token, deviceId, device -> onSuccess(
                                entities.revokeCertificate(device)
                                        .thenCompose(revoked -> entities.withdrawDeviceRelay(deviceId)),
                                revoked -> entities.askOrganization(
                                        organizationId, replyTo -> new Organization.DeleteDevice(deviceId, replyTo),
                                        reply -> deleteEntity(deviceId))));
                    }
                    if (listed.status() != 404) {
                        return json.error(listed.status(), listed.error());
                    }
                    return onSuccess(entities.device(deviceId, Device.Get::new), left -> left.isOk()
                            ? onSuccess(entities.revokeCertificate(left.device())
                                    .thenCompose(revoked -> entities.withdrawDeviceRelay(deviceId)),
                                    revoked -> deleteEntity(deviceId))
                            : json.error(404, "no such device"));
                }));
    }

    private Route deleteEntity(String deviceId) {
        return entities.askDevice(deviceId, Device.Delete::new, gone -> json.ok(new Deleted(deviceId)));
    }

    private Route listing(String organizationId) {
        return parameterOptional("status", status -> parameterOptional("hostname", hostname ->
                parameterOptional("offset", offset -> parameterOptional("limit", limit ->
                        list(organizationId, status, hostname, offset, limit)))));
    }

    private Route list(String organizationId, Optional<String> status, Optional<String> hostname,
            Optional<String> offsetText, Optional<String> limitText) {
        int offset = Validation.number(offsetText, 0, "offset");
        int limit = Validation.limit(limitText);
        return entities.askOrganization(organizationId, replyTo -> new Organization.ListDevices(
                status.orElse(null), hostname.orElse(null), offset, limit, replyTo), reply -> json.ok(new DevicePage(
                reply.devices().total(), offset, reply.devices().devices().stream()
                .map(device -> DeviceView.of(device, reply.devices().routes().get(device.id()))).toList())));
    }

    /**
     * The organization first: it refuses a hostname another device has (409). Then the device's entity takes what
     * the organization wrote. Tags arrive here only with the admin token or the organization's API token
     * ({@link Authorization#withDevice}): a device never sets its own.
     */
    private Route applyPatch(Organization.DeviceRecord device, Requests.PatchDevice request) {
        if (request.hostname() != null) {
            Validation.hostname(request.hostname(), "hostname");
        }
        if (request.metadata() != null && request.metadata().size() > 64) {
            throw new ApiException(400, "at most 64 metadata entries");
        }
        List<String> tags = request.tags() == null ? null : Validation.tags(request.tags());
        // relayAllowed false takes the relay the device runs, if any, off every relay list at once.
        return entities.askOrganization(Tokens.organizationOfDevice(device.id()),
                replyTo -> new Organization.PatchDevice(device.id(), request.hostname(), request.metadata(), tags,
                        request.relayAllowed(), replyTo),
                reply -> entities.askDevice(device.id(), replyTo -> new Device.Patch(reply.device().hostname(),
                        reply.device().metadata(), reply.device().tags(), reply.device().relayAllowed(), replyTo),
                        patched -> Boolean.FALSE.equals(request.relayAllowed())
                                ? onSuccess(entities.withdrawDeviceRelay(device.id()),
                                        withdrawn -> json.ok(DeviceView.of(patched.device())))
                                : json.ok(DeviceView.of(patched.device()))));
    }

    /** An administrator approves and rejects routes {@code device} advertises; answers its routes. */
    private Route review(Organization.DeviceRecord device, Requests.ReviewRoutes request) {
        List<String> approve = Validation.reviewed(request.approve(), "approve");
        List<String> reject = Validation.reviewed(request.reject(), "reject");
        List<String> primary = Validation.reviewed(request.primary(), "primary");
        return entities.askOrganization(Tokens.organizationOfDevice(device.id()),
                replyTo -> new Organization.ReviewRoutes(device.id(), approve, reject, primary,
                        System.currentTimeMillis(), replyTo),
                reply -> json.ok(reply.routes()));
    }

    private static java.util.Map<String, Requests.AutoApprove> approversView(Organization.Summary state) {
        java.util.Map<String, Requests.AutoApprove> view = new java.util.TreeMap<>();
        state.routeApprovers().forEach((tag, approve) ->
                view.put(tag, new Requests.AutoApprove(approve.routes(), approve.exitNode())));
        return view;
    }

    /** The tags whose devices' routes are approved without an administrator, replaced whole. */
    private Route saveApprovers(String organizationId, Requests.RouteApprovers request) {
        java.util.Map<String, RouteTable.AutoApprove> approvers = new java.util.TreeMap<>();
        if (request.tags() != null) {
            if (request.tags().size() > Validation.MAX_TAGS) {
                throw new ApiException(400, "tags: at most " + Validation.MAX_TAGS);
            }
            for (var entry : request.tags().entrySet()) {
                Validation.tags(List.of(entry.getKey()));
                if (entry.getValue() == null) {
                    throw new ApiException(400, "tags." + entry.getKey() + ": an object with routes and exitNode");
                }
                approvers.put(entry.getKey(), Validation.autoApprove(entry.getValue(), "tags." + entry.getKey()));
            }
        }
        return entities.askOrganization(organizationId,
                replyTo -> new Organization.SaveRouteApprovers(approvers, replyTo),
                reply -> json.ok(new Requests.RouteApprovers(approversView(reply.summary()))));
    }

    /** The devices {@code device} may learn under the organization's security groups: its peer map. */
    private Route visiblePeers(Organization.DeviceRecord device) {
        return entities.askOrganization(Tokens.organizationOfDevice(device.id()),
                replyTo -> new Organization.GetVisiblePeers(device.id(), replyTo),
                reply -> json.ok(new VisiblePeers(device.id(), reply.revision(), reply.devices().total(),
                        reply.devices().devices().stream().map(DeviceView::of).toList())));
    }
}
