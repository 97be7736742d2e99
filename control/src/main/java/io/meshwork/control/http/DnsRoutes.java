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

import io.meshwork.control.Answers;
import io.meshwork.control.http.views.Deleted;
import io.meshwork.control.organization.DnsSettings;
import io.meshwork.protocol.api.DnsConfig;
import io.meshwork.protocol.api.DnsRecord;
import io.meshwork.protocol.dns.DnsNames;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * An organization's DNS (docs/api.md, "DNS"), for the admin token or the organization's API token: {@code PATCH
 * /api/v1/organizations/{id}} with {@code {"dnsDomain": "..."}}, {@code GET .../dns} (domain and records), and
 * {@code GET/POST .../dns/records}, {@code DELETE .../dns/records/{recordId}} or {@code DELETE
 * .../dns/records?name=N[&type=T]}. Changes reach nodes on the peer-map stream as "dns" events.
 */
final class DnsRoutes {

    /** {@code PATCH /api/v1/organizations/{id}}: what of an organization may change. Unknown fields are rejected. */
    record PatchOrganization(String dnsDomain) {}

    /** {@code POST .../dns/records}: a record to add; {@code ttl} absent or 0 for the default. */
    record RecordRequest(String name, String type, String value, Integer ttl) {}

    /** The answer to a domain change. */
    record DomainView(String id, String dnsDomain) {}

    private final Authorization auth;
    private final JsonSupport json;
    private final ClusterSharding sharding;
    private final java.util.concurrent.Executor dispatcher;
    private final Duration askTimeout;

    DnsRoutes(Authorization auth, JsonSupport json, ActorSystem<?> system, Duration askTimeout) {
        this.auth = auth;
        this.json = json;
        this.sharding = ClusterSharding.get(system);
        this.dispatcher = system.executionContext();
        this.askTimeout = askTimeout;
    }

    /** The organization's DNS settings as nodes get them. */
    CompletionStage<DnsSettings.Reply> settings(String organizationId) {
        return ask(organizationId, DnsSettings.Get::new);
    }

    Route routes() {
        return pathPrefix(PathMatchers.segment("organizations").slash(PathMatchers.segment()), organizationId ->
                concat(
                        pathEnd(() -> patch(() -> auth.bearer(token -> json.body(PatchOrganization.class,
                                request -> auth.withOrganization(token, organizationId,
                                        summary -> setDomain(organizationId, request)))))),
                        path("dns", () -> get(() -> auth.bearer(token -> auth.withOrganization(token,
                                organizationId, summary -> answer(settings(organizationId), json::ok))))),
                        pathPrefix(PathMatchers.segment("dns").slash("records"), () -> concat(
                                pathEnd(() -> concat(
                                        get(() -> auth.bearer(token -> auth.withOrganization(token, organizationId,
                                                summary -> answer(settings(organizationId),
                                                        config -> json.ok(config.records()))))),
                                        post(() -> auth.bearer(token -> json.body(RecordRequest.class, record ->
                                                auth.withOrganization(token, organizationId,
                                                        summary -> add(organizationId, record))))),
                                        delete(() -> auth.bearer(token -> parameterOptional("name", name ->
                                                parameterOptional("type", type -> auth.withOrganization(token,
                                                        organizationId, summary -> deleteByName(organizationId,
                                                                name.orElseThrow(() -> new ApiException(400,
                                                                        "DELETE .../dns/records needs ?name=NAME "
                                                                                + "(and optionally &type=TYPE), or "
                                                                                + "use .../dns/records/{id}")),
                                                                type.orElse(null))))))))),
                                path(PathMatchers.segment(), recordId -> delete(() -> auth.bearer(token ->
                                        auth.withOrganization(token, organizationId, summary -> answer(
                                                ask(organizationId, replyTo -> new DnsSettings.DeleteRecords(
                                                        recordId, null, null, replyTo)),
                                                config -> json.ok(new Deleted(recordId)))))))))));
    }

    private Route setDomain(String organizationId, PatchOrganization request) {
        String domain;
        try {
            domain = DnsNames.domain(request.dnsDomain());
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
        return answer(ask(organizationId, replyTo -> new DnsSettings.SetDomain(domain, replyTo)),
                config -> json.ok(new DomainView(organizationId, config.domain())));
    }

    private Route add(String organizationId, RecordRequest request) {
        return answer(settings(organizationId), current -> {
            DnsRecord record = DnsRecordValidation.check(request, current.domain(), "r" + Tokens.randomHex(6));
            return answer(ask(organizationId, replyTo -> new DnsSettings.AddRecord(record, replyTo)),
                    config -> json.created(config.records().stream()
                            .filter(r -> r.id().equals(record.id())).findFirst().orElseThrow()));
        });
    }

    private Route deleteByName(String organizationId, String name, String type) {
        return answer(settings(organizationId), current -> {
            String relative = DnsRecordValidation.relativeName(name, current.domain());
            String upper = type == null ? null : type.strip().toUpperCase(java.util.Locale.ROOT);
            if (upper != null && !DnsRecordValidation.TYPES.contains(upper)) {
                throw new ApiException(400, "type must be one of A, AAAA, CNAME, TXT, SRV");
            }
            return answer(ask(organizationId, replyTo -> new DnsSettings.DeleteRecords(null, relative, upper,
                    replyTo)), config -> json.ok(new Deleted(DnsNames.recordName(name, current.domain()))));
        });
    }

    private Route answer(CompletionStage<DnsSettings.Reply> reply, Function<DnsConfig, Route> onOk) {
        return onSuccess(reply, answer -> answer.isOk() ? onOk.apply(answer.config())
                : json.error(answer.status(), answer.error()));
    }

    private CompletionStage<DnsSettings.Reply> ask(String organizationId,
            org.apache.pekko.japi.function.Function<ActorRef<DnsSettings.Reply>, DnsSettings.Command> command) {
        if (!Validation.isOrganizationId(organizationId)) {
            throw new ApiException(404, "no such organization");
        }
        return Answers.onDispatcher(sharding.entityRefFor(DnsSettings.ENTITY_KEY, organizationId)
                .ask(command, askTimeout), dispatcher);
    }
}
