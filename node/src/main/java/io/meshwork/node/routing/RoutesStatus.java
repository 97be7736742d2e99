package io.meshwork.node.routing;

import io.meshwork.node.local.NodeStatus;
import io.meshwork.protocol.api.RouteAdvertisement;
import io.meshwork.protocol.api.RouteStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The routes part of the node's status ({@code meshwork status}): what it offers as a router and what control made
 * of that, and the routes it takes as a client, with its exit node.
 */
public final class RoutesStatus {

    private RoutesStatus() {}

    /**
     * @param offered    what the node advertises; null when it advertises nothing
     * @param answer     control's last answer to the advertisement; null before the first
     * @param forwarding how the node forwards as a router, or why it cannot
     * @param client     the routes the node takes; null when it takes none
     * @param hostnames  a peer's hostname by its device id, or null when it is not known
     * @return null when the node neither advertises nor takes routes
     */
    public static NodeStatus.Routes of(RouteAdvertisement offered, RouteStatus answer, String forwarding,
            ClientRoutes client, Function<String, String> hostnames) {
        if (offered == null && client == null) {
            return null;
        }
        List<String> advertised = List.of();
        List<String> approved = null;
        List<String> pending = null;
        List<String> primary = List.of();
        if (offered != null) {
            List<String> routes = new ArrayList<>(offered.routes());
            if (Boolean.TRUE.equals(offered.exitNode())) {
                routes.addAll(RouteAdvertisement.EXIT_ROUTES);
            }
            advertised = routes;
            if (answer != null) {
                approved = answer.approved();
                pending = answer.pending();
                primary = answer.primary();
            }
        }
        String exitNode = null;
        String exitNote = null;
        List<NodeStatus.Route> routes = List.of();
        if (client != null) {
            var selection = client.selection();
            if (selection.exitNodeId() != null) {
                String hostname = hostnames.apply(selection.exitNodeId());
                exitNode = hostname == null ? selection.exitNodeId() : hostname;
            }
            exitNote = selection.exitNote();
            routes = selection.routes().stream()
                    .map(use -> new NodeStatus.Route(use.prefix(), use.router(), use.skipped())).toList();
        }
        return new NodeStatus.Routes(advertised, approved, pending, primary, forwarding, exitNode, exitNote, routes);
    }
}
