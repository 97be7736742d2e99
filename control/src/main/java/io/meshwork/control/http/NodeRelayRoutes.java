package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;

import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.control.http.views.Acknowledged;
import io.meshwork.control.http.views.Deleted;
import io.meshwork.control.http.views.NodeRelayEnrolled;
import io.meshwork.control.http.views.Revocations;
import io.meshwork.control.organization.Organization;
import io.meshwork.control.relay.RelayDirectory;
import io.meshwork.protocol.net.AddressClass;
import java.time.Duration;
import java.util.List;
import java.util.function.BiFunction;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A node's relay for its own organization ({@code meshwork node up --relay}; docs/api.md, "Node relays"), with the
 * device token of the node that runs it:
 *
 * <pre>
 * POST   /api/v1/devices/self/relay              enroll (or enroll again: the relay keeps its id)
 * PUT    /api/v1/devices/self/relay/health       the heartbeat
 * GET    /api/v1/devices/self/relay/revocations  revoked device certificate serials
 * DELETE /api/v1/devices/self/relay              withdraw it (node down)
 * </pre>
 *
 * Every one but the withdrawal needs the device to be active and allowed to relay ({@code relayAllowed}, set by an
 * administrator or the organization's API token with {@code PATCH /api/v1/devices/{id}}): else 403 with a JSON
 * error saying so, and a relay it ran leaves the list. Revoked devices are refused (403), deleted ones unknown (401).
 */
final class NodeRelayRoutes {

    /** The STUN servers a node's relay may advertise at most. */
    private static final int MAX_STUN_SERVERS = 4;
    /** The longest address taken (an IPv6 literal with brackets and port is 47 characters). */
    private static final int MAX_ADDRESS = 64;

    private final Authorization auth;
    private final Entities entities;
    private final JsonSupport json;
    private final CertificateAuthority ca;
    private final Duration heartbeat;

    NodeRelayRoutes(Authorization auth, Entities entities, JsonSupport json, CertificateAuthority ca,
            Duration heartbeat) {
        this.auth = auth;
        this.entities = entities;
        this.json = json;
        this.ca = ca;
        this.heartbeat = heartbeat;
    }

    Route routes() {
        return pathPrefix(PathMatchers.segment("devices").slash("self").slash("relay"), () -> concat(
                pathEnd(() -> concat(
                        post(() -> auth.bearer(token -> json.body(Requests.NodeRelayAdvertisement.class,
                                advertisement -> allowed(token, (organizationId, device) ->
                                        enroll(organizationId, device, advertisement))))),
                        delete(() -> auth.bearer(token -> auth.withSelf(token, (organizationId, device) ->
                                onSuccess(entities.withdrawDeviceRelay(device.id()), reply -> json.ok(
                                        new Deleted(reply.relay() == null ? device.id() : reply.relay().id())))))))),
                path("health", () -> put(() -> auth.bearer(token -> json.body(Requests.RelayHealth.class, health ->
                        allowed(token, (organizationId, device) -> enrolled(device, relay -> onSuccess(
                                entities.relayDirectory(replyTo -> new RelayDirectory.ReportHealth(relay.id(),
                                        Math.max(0, health.udpClients()), Math.max(0, health.tcpClients()),
                                        health.healthy(), System.currentTimeMillis(), replyTo)),
                                reply -> reply.isOk() ? json.ok(new Acknowledged(true))
                                        : json.error(reply.status(), reply.error())))))))),
                path("revocations", () -> get(() -> auth.bearer(token -> allowed(token, (organizationId, device) ->
                        onSuccess(entities.relayDirectory(RelayDirectory.Get::new),
                                reply -> json.ok(new Revocations(reply.state().revokedSerials())))))))));
    }

    /**
     * Runs {@code inner} for an active device allowed to relay. A device that is not allowed (any more) is answered
     * 403, after a relay it still has in the directory is withdrawn.
     */
    private Route allowed(String token, BiFunction<String, Organization.DeviceRecord, Route> inner) {
        return auth.withSelf(token, (organizationId, device) -> {
            if (!device.status().equals(Organization.DeviceRecord.ACTIVE)) {
                throw new ApiException(403, "device " + device.id() + " is " + device.status()
                        + ": only an active device may relay");
            }
            if (!device.relayAllowed()) {
                String refusal = "device " + device.id() + " may not relay: an administrator allows it with "
                        + "PATCH /api/v1/devices/" + device.id() + " {\"relayAllowed\": true}";
                return onSuccess(entities.withdrawDeviceRelay(device.id()).exceptionally(failure -> null),
                        withdrawn -> json.error(403, refusal));
            }
            return inner.apply(organizationId, device);
        });
    }

    /** Runs {@code inner} with the device's relay; 404 when it has none enrolled (it enrolls again). */
    private Route enrolled(Organization.DeviceRecord device,
            java.util.function.Function<RelayDirectory.RelayRecord, Route> inner) {
        return onSuccess(entities.relayDirectory(RelayDirectory.Get::new), reply -> {
            RelayDirectory.RelayRecord relay = reply.state().relayOfDevice(device.id());
            return relay == null ? json.error(404, "this device runs no enrolled relay; enroll with "
                    + "POST /api/v1/devices/self/relay") : inner.apply(relay);
        });
    }

    /**
     * An address a node advertises for its relay (null: none): an {@code ip:port} literal devices may be sent to,
     * public or private (a relay on the organization's LAN), never loopback, unspecified, multicast or link-local;
     * else a 400 naming it. The organization's devices connect to it.
     */
    private static void reachable(String name, String address) {
        if (address == null) {
            return;
        }
        if (address.length() > MAX_ADDRESS) {
            throw new ApiException(400, name + ": at most " + MAX_ADDRESS + " characters");
        }
        String refusal = AddressClass.endpointRefusal(address, "local");
        if (refusal != null) {
            throw new ApiException(400, name + " \"" + address + "\": " + refusal);
        }
    }

    private Route enroll(String organizationId, Organization.DeviceRecord device,
            Requests.NodeRelayAdvertisement advertisement) {
        String name = advertisement.name() == null || advertisement.name().isBlank() ? device.hostname()
                : Validation.hostname(advertisement.name().strip(), "name");
        if (!Validation.isHostname(name)) {
            name = device.id();
        }
        String region = advertisement.region() == null || advertisement.region().isBlank() ? null
                : Validation.region(advertisement.region().strip());
        if (advertisement.udp() == null && advertisement.tcp() == null) {
            throw new ApiException(400, "a relay advertises a udp or a tcp address");
        }
        reachable("udp", advertisement.udp());
        reachable("tcp", advertisement.tcp());
        List<String> stun = advertisement.stun() == null ? List.of() : advertisement.stun();
        if (stun.size() > MAX_STUN_SERVERS) {
            throw new ApiException(400, "stun: at most " + MAX_STUN_SERVERS + " servers");
        }
        for (int i = 0; i < stun.size(); i++) {
            if (stun.get(i) == null) {
                throw new ApiException(400, "stun[" + i + "]: an ip:port, not null");
            }
            reachable("stun[" + i + "]", stun.get(i));
        }
        String relayName = name;
        String relayId = "r" + Tokens.randomHex(6);
        return onSuccess(entities.relayDirectory(replyTo -> new RelayDirectory.EnrollDevice(device.id(),
                organizationId, relayId, relayName, region, advertisement.udp(), advertisement.tcp(), stun,
                System.currentTimeMillis(), replyTo)), reply -> reply.isOk()
                ? json.ok(new NodeRelayEnrolled(reply.relay().id(), organizationId, ca.certificatePem(),
                        (int) heartbeat.toSeconds()))
                : json.error(reply.status(), reply.error()));
    }
}
