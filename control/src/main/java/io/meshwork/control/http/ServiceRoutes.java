package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import io.meshwork.control.http.views.ClusterView;
import io.meshwork.control.http.views.Status;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The member itself: {@code /health}, {@code /ready} and {@code /api/v1/openapi.json} for anyone;
 * {@code /api/v1/cluster} (the members this one sees) and {@code /metrics} on the API listener for the admin token.
 * The metrics listener ({@code meshwork.control.metrics}; docs/operations.md, "Health, readiness, metrics") serves
 * {@code /metrics} to anyone who reaches it, which by default is this host only.
 */
final class ServiceRoutes {

    private final Authorization auth;
    private final JsonSupport json;
    private final ActorSystem<?> system;
    private final PrometheusMeterRegistry metrics;
    private final Supplier<CompletionStage<String>> unready;
    private final String controlPin;

    /**
     * {@code unready} answers null when the member is ready, else what keeps it from being so; {@code controlPin}
     * is the API certificate's pin, null over plain HTTP.
     */
    ServiceRoutes(Authorization auth, JsonSupport json, ActorSystem<?> system, PrometheusMeterRegistry metrics,
            Supplier<CompletionStage<String>> unready, String controlPin) {
        this.controlPin = controlPin;
        this.auth = auth;
        this.json = json;
        this.system = system;
        this.metrics = metrics;
        this.unready = unready;
    }

    /** The routes outside {@code /api/v1}. */
    Route routes() {
        return concat(
                path("health", () -> get(() -> json.ok(new Status("ok")))),
                path("ready", () -> get(() -> onSuccess(unready.get(), problem -> problem == null
                        ? json.ok(new Status("ready"))
                        : json.error(503, "not ready: " + problem)))));
    }

    /** {@code GET /metrics} on the API listener: the admin token's. */
    Route adminMetrics() {
        return get(() -> auth.bearer(token -> auth.adminOnly(token, this::scrape)));
    }

    /** The metrics listener's one route, {@code GET /metrics}, without credentials. */
    Route metricsListener() {
        return path("metrics", () -> get(this::scrape));
    }

    private Route scrape() {
        return complete(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8,
                metrics.scrape())));
    }

    /** The routes under {@code /api/v1}. */
    Route api() {
        return concat(
                path("openapi.json", () -> get(this::openApi)),
                path("cluster", () -> get(() -> auth.bearer(token -> auth.adminOnly(token,
                        () -> json.ok(clusterView()))))));
    }

    /** The members this member sees, with their status, and which of them it cannot reach. */
    private ClusterView clusterView() {
        ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
        List<ClusterView.Member> members = new ArrayList<>();
        state.getMembers().forEach(member -> members.add(new ClusterView.Member(member.address().toString(),
                member.status().toString())));
        List<String> unreachable = new ArrayList<>();
        state.getUnreachable().forEach(member -> unreachable.add(member.address().toString()));
        return new ClusterView(Cluster.get(system).selfMember().address().toString(),
                state.getLeader() == null ? null : state.getLeader().toString(), members, unreachable, controlPin);
    }

    private Route openApi() {
        try (InputStream in = ServiceRoutes.class.getResourceAsStream("/openapi.json")) {
            return complete(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
                    in.readAllBytes())));
        } catch (IOException | NullPointerException e) {
            return json.error(500, "the OpenAPI document is missing from this build");
        }
    }
}
