package io.meshwork.protocol.api;

import java.util.List;

/**
 * A device's routes as control holds them: the answer to {@code POST /api/v1/devices/self/routes} and to
 * {@code POST /api/v1/devices/{id}/routes}, and {@code routes} in a device's view. An exit node's offer appears as
 * {@code 0.0.0.0/0} and {@code ::/0} in {@code advertised}, {@code approved} and {@code pending}.
 *
 * @param advertised what the device offers
 * @param approved   what of that is approved (by an administrator, or by its registration key or a tag)
 * @param pending    what of that waits for approval; never in the peer map
 * @param primary    the approved prefixes the device is the primary router for, which clients route to it
 * @param exitNode   whether the device is an approved exit node
 * @param online     whether control counts the device as an online router (a healthy report within 10 s)
 */
public record RouteStatus(List<String> advertised, List<String> approved, List<String> pending,
        List<String> primary, boolean exitNode, boolean online) {

    public RouteStatus {
        advertised = advertised == null ? List.of() : List.copyOf(advertised);
        approved = approved == null ? List.of() : List.copyOf(approved);
        pending = pending == null ? List.of() : List.copyOf(pending);
        primary = primary == null ? List.of() : List.copyOf(primary);
    }
}
