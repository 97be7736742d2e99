package io.meshwork.control.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.control.organization.Device;
import io.meshwork.control.organization.Ipam;
import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.OrganizationDirectory;
import io.meshwork.control.organization.OrganizationWriter;
import io.meshwork.control.organization.SecurityPolicies;
import io.meshwork.control.relay.RelayDirectory;
import io.meshwork.control.relay.TlsPin;
import io.meshwork.protocol.api.ApiError;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.RegisterRequest;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.api.SecurityPolicy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The control plane's HTTP API: admin routes under {@code /api/v1} (bearer admin or organization token), the node
 * routes (registration key, device token), health, readiness, Prometheus metrics and the OpenAPI document. Every
 * error is JSON ({@link ApiError}); bad input is a 4xx that says what was wrong, never a 500.
 */
public final class ControlRoutes extends AllDirectives {

    private static final Pattern HOSTNAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    private static final ContentType NDJSON = ContentTypes.create(MediaTypes.applicationWithOpenCharset("x-ndjson"),
            org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8);

    /**
     * What the routes need from the running control plane; {@code unready} answers null when the member is ready,
     * else what keeps it from being so.
     */
    public record Settings(String adminToken, String defaultIpv4Cidr, List<RelayInfo> relays, List<String> stunServers,
            Duration coalesceWindow, Duration safetyPoll, Duration askTimeout,
            Supplier<CompletionStage<String>> unready) {}

    private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    /** The {@code code} of the peer stream's 403 to a device that is registered but not approved yet. */
    public static final String PENDING_APPROVAL = "pending_approval";
    /**
     * How long the relay list handed to registering devices is reused: a burst of registrations asks the relay
     * directory once, not once each. Relays enrolled or reporting through this member show at once; through
     * another, within this long.
     */
    private static final Duration RELAY_LIST_TTL = Duration.ofSeconds(1);

    private record RelayList(long readNanos, CompletionStage<RelaysForDevices> relays) {}

    private final AtomicReference<RelayList> relayList = new AtomicReference<>();

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final CertificateAuthority ca;
    private final Settings settings;
    private final PrometheusMeterRegistry metrics;
    private final ObjectMapper json = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    private final Counter registrations;
    private final Counter repeatedRegistrations;
    private final AtomicInteger watchers = new AtomicInteger();
    private final PeerMapFeeds feeds;
    private final org.apache.pekko.actor.typed.ActorRef<OrganizationWriter.Message> writer;

    /** {@code writer}: this member's {@link OrganizationWriter}, which the caller runs. */
    public ControlRoutes(ActorSystem<?> system, CertificateAuthority ca, Settings settings,
            PrometheusMeterRegistry metrics, org.apache.pekko.actor.typed.ActorRef<OrganizationWriter.Message> writer) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.ca = ca;
        this.settings = settings;
        this.metrics = metrics;
        this.feeds = new PeerMapFeeds(system, settings.coalesceWindow(), settings.safetyPoll(), settings.askTimeout());
        this.writer = writer;
        this.registrations = Counter.builder("meshwork_registrations").description("devices registered").register(metrics);
        this.repeatedRegistrations = Counter.builder("meshwork_registrations_repeated")
                .description("registrations repeated after their answer was lost").register(metrics);
        metrics.gauge("meshwork_peer_stream_watchers", watchers);
    }

    public Route routes() {
        return handleExceptions(exceptions(), () -> handleRejections(rejections(), () -> concat(
                path("health", () -> get(() -> ok(Map.of("status", "ok")))),
                path("ready", () -> get(() -> onSuccess(settings.unready().get(), problem -> problem == null
                        ? ok(Map.of("status", "ready"))
                        : error(503, "not ready: " + problem)))),
                path("metrics", () -> get(() -> complete(HttpResponse.create().withEntity(
                        HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape()))))),
                pathPrefix("api", () -> pathPrefix("v1", this::api)))));
    }

    private Route api() {
        return concat(
                path("openapi.json", () -> get(this::openApi)),
                pathPrefix("organizations", this::organizations),
                pathPrefix("devices", this::devices),
                pathPrefix("relays", this::relays),
                path("cluster", () -> get(() -> authorization(auth -> adminOnly(auth, () -> ok(clusterView()))))),
                path("register", () -> post(() -> authorization(auth -> body(RegisterRequest.class,
                        request -> clientAddress(remote -> register(auth, request, remote)))))),
                path(PathMatchers.segment("peers").slash("stream"), () -> get(() -> authorization(auth ->
                        parameterOptional("since", since -> peerStream(auth, since))))));
    }

    private Route organizations() {
        return concat(
                pathEnd(() -> concat(
                        post(() -> authorization(auth -> body(Requests.CreateOrganization.class,
                                request -> createOrganization(auth, request)))),
                        get(() -> authorization(auth -> parameterOptional("name", name ->
                                parameterOptional("offset", offset -> parameterOptional("limit", limit ->
                                        listOrganizations(auth, name, offset, limit)))))))),
                pathPrefix(PathMatchers.segment(), this::organization));
    }

    private Route organization(String organizationId) {
        return concat(
                pathEnd(() -> concat(
                        get(() -> authorization(auth -> withOrganization(auth, organizationId,
                                state -> ok(organizationView(state, null))))),
                        delete(() -> authorization(auth -> adminOnly(auth, () ->
                                deleteOrganization(organizationId)))))),
                pathPrefix("keys", () -> keys(organizationId)),
                pathPrefix("security-groups", () -> securityGroups(organizationId)),
                path("devices", () -> get(() -> authorization(auth -> withOrganization(auth, organizationId,
                        state -> parameterOptional("status", status -> parameterOptional("hostname", hostname ->
                                parameterOptional("offset", offset -> parameterOptional("limit", limit ->
                                        listDevices(state, status, hostname, offset, limit))))))))));
    }

    private Route keys(String organizationId) {
        return concat(
                pathEnd(() -> concat(
                        post(() -> authorization(auth -> body(Requests.CreateKey.class, request ->
                                withOrganization(auth, organizationId, state -> createKey(organizationId, request))))),
                        get(() -> authorization(auth -> withOrganization(auth, organizationId,
                                state -> ok(state.keys().values().stream().map(this::keyView).toList())))))),
                path(PathMatchers.segment(), keyId -> delete(() -> authorization(auth ->
                        withOrganization(auth, organizationId, state -> ask(organizationId,
                                replyTo -> new Organization.RevokeKey(keyId, replyTo),
                                reply -> ok(keyView(reply.state().keys().get(keyId)))))))));
    }

    private Route securityGroups(String organizationId) {
        return concat(
                pathEnd(() -> concat(
                        get(() -> authorization(auth -> withOrganization(auth, organizationId,
                                state -> ok(state.securityGroups().values())))),
                        post(() -> authorization(auth -> body(Organization.SecurityGroup.class, group ->
                                withOrganization(auth, organizationId, state -> saveSecurityGroup(state,
                                        validated(state, group, null), StatusCodes.CREATED))))))),
                path(PathMatchers.segment(), name -> concat(
                        get(() -> authorization(auth -> withOrganization(auth, organizationId, state -> {
                            Organization.SecurityGroup group = state.securityGroups().get(name);
                            if (group == null) {
                                throw new ApiException(404, "no such security group");
                            }
                            return ok(group);
                        }))),
                        put(() -> authorization(auth -> body(Organization.SecurityGroup.class, group ->
                                withOrganization(auth, organizationId, state -> saveSecurityGroup(state,
                                        validated(state, group, name), StatusCodes.OK))))),
                        delete(() -> authorization(auth -> withOrganization(auth, organizationId, state ->
                                ask(organizationId, replyTo -> new Organization.DeleteSecurityGroup(name, replyTo),
                                        reply -> ok(Map.of("deleted", name)))))))));
    }

    private Route saveSecurityGroup(Organization.State state, Organization.SecurityGroup group,
            org.apache.pekko.http.javadsl.model.StatusCode status) {
        return ask(state.id(), replyTo -> new Organization.SaveSecurityGroup(group, replyTo),
                reply -> complete(status, toEntity(group)));
    }

    private static final Pattern PORTS = Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?");

    /** A security group as given, checked: every field says what is wrong with it in a 400. */
    private static Organization.SecurityGroup validated(Organization.State state, Organization.SecurityGroup group,
            String pathName) {
        String name = group.name() == null ? pathName : group.name();
        if (name == null || !HOSTNAME.matcher(name).matches()) {
            throw new ApiException(400, "name must be 1 to 63 letters, digits, '.', '-' or '_'");
        }
        if (pathName != null && !name.equals(pathName)) {
            throw new ApiException(400, "the name in the body differs from the one in the path");
        }
        List<String> appliesTo = group.appliesTo() == null ? List.of("*") : group.appliesTo();
        if (appliesTo.isEmpty() || appliesTo.size() > 1024) {
            throw new ApiException(400, "appliesTo: 1 to 1024 device ids, hostnames or \"*\"");
        }
        for (String target : appliesTo) {
            // A hostname may name a device that has not joined yet: the group applies to it when it does.
            if (target == null || !target.equals("*") && !HOSTNAME.matcher(target).matches()) {
                throw new ApiException(400, "appliesTo entries are device ids, hostnames or \"*\": " + target);
            }
        }
        if (group.rules() == null || group.rules().isEmpty() || group.rules().size() > 256) {
            throw new ApiException(400, "rules: 1 to 256 allow rules");
        }
        for (Organization.Rule rule : group.rules()) {
            if (rule == null) {
                throw new ApiException(400, "rules: null is not a rule");
            }
            if (rule.protocol() == null || !List.of("tcp", "udp", "icmp", "any").contains(rule.protocol())) {
                throw new ApiException(400, "protocol must be tcp, udp, icmp or any");
            }
            if (rule.ports() != null && !rule.ports().equals("*")) {
                if (!rule.protocol().equals("tcp") && !rule.protocol().equals("udp")) {
                    throw new ApiException(400, "ports only apply to tcp and udp rules");
                }
                var matcher = PORTS.matcher(rule.ports());
                if (!matcher.matches()) {
                    throw new ApiException(400, "ports must be PORT, FROM-TO or *: " + rule.ports());
                }
                int from = Integer.parseInt(matcher.group(1));
                int to = matcher.group(2) == null ? from : Integer.parseInt(matcher.group(2));
                if (from < 1 || to > 65535 || from > to) {
                    throw new ApiException(400, "ports out of range 1-65535: " + rule.ports());
                }
            }
            if (rule.peers() == null || rule.peers().isEmpty() || rule.peers().size() > 1024) {
                throw new ApiException(400, "each rule needs 1 to 1024 peers: CIDRs or group names");
            }
            for (String peer : rule.peers()) {
                if (peer == null) {
                    throw new ApiException(400, "peers: null is neither a CIDR nor a group name");
                }
                String other = SecurityPolicies.referencedGroup(peer);
                if (other != null) {
                    if (!other.equals(name) && !state.securityGroups().containsKey(other)) {
                        throw new ApiException(400, "no security group named " + other + " (a CIDR needs its /length)");
                    }
                } else if (!validCidr(peer)) {
                    throw new ApiException(400, "not a CIDR: " + peer);
                }
            }
        }
        return new Organization.SecurityGroup(name, List.copyOf(appliesTo), List.copyOf(group.rules()));
    }

    private static boolean validCidr(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return false;
        }
        String ip = text.substring(0, slash);
        int length;
        try {
            length = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            return false;
        }
        if (ip.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            for (String octet : ip.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    return false;
                }
            }
            return length >= 0 && length <= 32;
        }
        if (ip.contains(":") && ip.matches("[0-9a-fA-F:]+")) {
            try {
                java.net.InetAddress.getByName(ip);
                return length >= 0 && length <= 128;
            } catch (java.net.UnknownHostException e) {
                return false;
            }
        }
        return false;
    }

    private Route devices() {
        return concat(
                path(PathMatchers.segment("self").slash("endpoints"), () -> post(() -> authorization(auth ->
                        body(EndpointReport.class, report -> clientAddress(remote ->
                                reportEndpoints(auth, report, remote)))))),
                pathPrefix(PathMatchers.segment(), this::device));
    }

    private Route device(String deviceId) {
        String organizationId = Tokens.organizationOfDevice(deviceId);
        return concat(
                pathEnd(() -> concat(
                        get(() -> authorization(auth -> withDevice(auth, deviceId, device -> ok(deviceView(device))))),
                        patch(() -> authorization(auth -> body(Requests.PatchDevice.class, request ->
                                withDevice(auth, deviceId, device -> patchDevice(device, request))))),
                        // The organization first: once it has let go of the device, nothing brings it back.
                        delete(() -> authorization(auth -> withDevice(auth, deviceId, device ->
                                ask(organizationId, replyTo -> new Organization.DeleteDevice(deviceId, replyTo),
                                        reply -> askDevice(deviceId, Device.Delete::new,
                                                gone -> ok(Map.of("deleted", deviceId))))))))),
                // The device first, then the peer map; approving again is harmless, so a failed second step is
                // finished by a retry.
                path("approve", () -> post(() -> authorization(auth -> withDevice(auth, deviceId, device ->
                        askDevice(deviceId, Device.Approve::new, approved -> ask(organizationId,
                                replyTo -> new Organization.ApproveDevice(deviceId, replyTo),
                                reply -> ok(deviceView(approved.device())))))))),
                // The device first: its token stops working before the peer map drops it.
                path("revoke", () -> post(() -> authorization(auth -> withDevice(auth, deviceId, device ->
                        askDevice(deviceId, Device.Revoke::new, revoked -> ask(organizationId,
                                replyTo -> new Organization.RevokeDevice(deviceId, replyTo),
                                reply -> onSuccess(revokeCertificate(revoked.device()),
                                        done -> ok(deviceView(revoked.device()))))))))));
    }

    /** Relays learn revoked certificate serials from the relay directory. */
    private CompletionStage<RelayDirectory.Reply> revokeCertificate(Organization.DeviceRecord device) {
        if (device.certificateSerial() == null) {
            return CompletableFuture.completedFuture(null);
        }
        return relayDirectory(replyTo -> new RelayDirectory.RevokeSerial(device.certificateSerial(), replyTo));
    }

    // ---- cluster ----------------------------------------------------------------------------------------

    /** The members this member sees, with their status, and which of them it cannot reach. */
    private Map<String, Object> clusterView() {
        ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
        List<Map<String, Object>> members = new ArrayList<>();
        state.getMembers().forEach(member -> members.add(Map.of("address", member.address().toString(),
                "status", member.status().toString())));
        List<String> unreachable = new ArrayList<>();
        state.getUnreachable().forEach(member -> unreachable.add(member.address().toString()));
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("self", Cluster.get(system).selfMember().address().toString());
        view.put("leader", state.getLeader() == null ? null : state.getLeader().toString());
        view.put("members", members);
        view.put("unreachable", unreachable);
        return view;
    }

    // ---- relays -----------------------------------------------------------------------------------------

    private Route relays() {
        return concat(
                pathEnd(() -> get(() -> authorization(auth -> adminOnly(auth, () -> onSuccess(
                        relayDirectory(RelayDirectory.Get::new), reply -> ok(reply.state().relays().values())))))),
                path("tokens", () -> post(() -> authorization(auth -> adminOnly(auth, () ->
                        body(Requests.CreateRelayToken.class, this::createRelayToken))))),
                path("register", () -> post(() -> authorization(auth -> body(Requests.RelayAdvertisement.class,
                        advertisement -> enrollRelay(auth, advertisement))))),
                pathPrefix(PathMatchers.segment(), relayId -> concat(
                        path("health", () -> put(() -> authorization(auth -> body(Requests.RelayHealth.class,
                                health -> withRelay(auth, relayId, state -> onSuccess(relayDirectory(replyTo ->
                                        new RelayDirectory.ReportHealth(relayId, health.udpClients(),
                                                health.tcpClients(), health.healthy(), System.currentTimeMillis(),
                                                replyTo)), reply -> ok(Map.of("ok", true)))))))),
                        path("revocations", () -> get(() -> authorization(auth -> withRelay(auth, relayId,
                                state -> ok(Map.of("serials", state.revokedSerials())))))),
                        path("observations", () -> post(() -> authorization(auth ->
                                body(Requests.RelayObservations.class, report -> withRelay(auth, relayId,
                                        state -> recordObservations(report)))))))));
    }

    private Route createRelayToken(Requests.CreateRelayToken request) {
        String name = request.name() == null || request.name().isBlank() ? "relay" : request.name().strip();
        if (!HOSTNAME.matcher(name).matches()) {
            throw new ApiException(400, "name must be 1 to 63 letters, digits, '.', '-' or '_'");
        }
        String region = request.region() == null || request.region().isBlank() ? null : request.region().strip();
        if (region != null && !REGION.matcher(region).matches()) {
            throw new ApiException(400, "region must be 1 to 32 lowercase letters, digits or '-'");
        }
        String tokenId = "t" + Tokens.randomHex(4);
        String secret = Tokens.randomHex(24);
        Map<String, Object> created = new LinkedHashMap<>();
        created.put("token", TokenKind.RELAY.format(tokenId, secret));
        created.put("name", name);
        created.put("region", region);
        return onSuccess(relayDirectory(replyTo -> new RelayDirectory.IssueToken(tokenId, Tokens.hash(secret), name,
                region, System.currentTimeMillis(), replyTo)), reply -> complete(StatusCodes.CREATED,
                toEntity(created)));
    }

    private Route enrollRelay(String auth, Requests.RelayAdvertisement advertisement) {
        TokenKind.Parsed token = TokenKind.RELAY.parse(auth)
                .orElseThrow(() -> new ApiException(401, "relay enrollment needs a relay token (mwr....)"));
        if (advertisement.udp() == null && advertisement.tcp() == null) {
            throw new ApiException(400, "a relay advertises a udp or a tcp address");
        }
        String tlsSha256;
        try {
            tlsSha256 = TlsPin.normalize(advertisement.tlsSha256());
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "tlsSha256: " + e.getMessage());
        }
        if (tlsSha256 != null && advertisement.tcp() == null) {
            throw new ApiException(400, "tlsSha256 pins the tcp listener; advertise a tcp address with it");
        }
        String relayId = "r" + Tokens.randomHex(6);
        return onSuccess(relayDirectory(replyTo -> new RelayDirectory.Enroll(token.id(), Tokens.hash(token.secret()),
                relayId, advertisement.udp(), advertisement.tcp(), advertisement.stun(),
                tlsSha256, System.currentTimeMillis(), replyTo)), reply -> reply.isOk()
                ? ok(Map.of("relayId", reply.relay().id(), "caCertificatePem", ca.certificatePem(),
                        "heartbeatSeconds", 10))
                : error(reply.status(), reply.error()));
    }

    /** Runs {@code inner} when the token is the enrollment token of relay {@code relayId}. */
    private Route withRelay(String auth, String relayId, Function<RelayDirectory.State, Route> inner) {
        TokenKind.Parsed token = TokenKind.RELAY.parse(auth)
                .orElseThrow(() -> new ApiException(401, "this needs the relay's token"));
        return onSuccess(relayDirectory(RelayDirectory.Get::new), reply -> {
            RelayDirectory.Token known = reply.state().tokens().get(token.id());
            if (known == null || !Tokens.sameHash(known.secretHash(), token.secret())) {
                throw new ApiException(401, "unknown relay token");
            }
            if (!relayId.equals(known.relayId())) {
                throw new ApiException(403, "this token belongs to another relay");
            }
            return inner.apply(reply.state());
        });
    }

    private Route recordObservations(Requests.RelayObservations report) {
        List<Requests.Observation> observations = report.observations() == null ? List.of() : report.observations();
        if (observations.size() > 10_000) {
            throw new ApiException(400, "at most 10000 observations per report");
        }
        List<CompletableFuture<Boolean>> sent = new ArrayList<>();
        for (Requests.Observation observation : observations) {
            String organizationId = observation.deviceId() == null ? "" : Tokens.organizationOfDevice(observation.deviceId());
            if (organizationId.isEmpty() || observation.address() == null) {
                continue;
            }
            if (observation.deviceId().length() > 128) {
                continue;
            }
            sent.add(deviceEntity(observation.deviceId(), replyTo -> new Device.Observe(
                            new Endpoint(observation.address(), "relay"), System.currentTimeMillis(), replyTo))
                    .thenCompose(reply -> updateOrganization(organizationId, reply))
                    .thenApply(revision -> revision != FAILED)
                    .exceptionally(failure -> false)
                    .toCompletableFuture());
        }
        return onSuccess(CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)),
                done -> ok(Map.of("recorded", sent.stream().filter(CompletableFuture::join).count())));
    }

    /** Any relay directory command; what this member hands registering devices is read afresh after it. */
    private CompletionStage<RelayDirectory.Reply> relayDirectory(
            org.apache.pekko.japi.function.Function<org.apache.pekko.actor.typed.ActorRef<RelayDirectory.Reply>, RelayDirectory.Command> command) {
        return sharding.entityRefFor(RelayDirectory.ENTITY_KEY, RelayDirectory.ID).ask(command, settings.askTimeout())
                .whenComplete((reply, failure) -> relayList.set(null));
    }

    // ---- admin ----------------------------------------------------------------------------------------------

    private Route createOrganization(String auth, Requests.CreateOrganization request) {
        return adminOnly(auth, () -> {
            if (request.name() == null || request.name().isBlank() || request.name().length() > 64) {
                throw new ApiException(400, "name is required, 1 to 64 characters");
            }
            String cidr = request.ipv4Cidr() == null ? settings.defaultIpv4Cidr() : request.ipv4Cidr();
            try {
                cidr = Ipam.Cidr.parse(cidr).toString();
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, "bad ipv4Cidr: " + e.getMessage());
            }
            String id = Tokens.newOrganizationId();
            String secret = Tokens.randomHex(24);
            String token = TokenKind.ORGANIZATION.format(id, secret);
            String finalCidr = cidr;
            String name = request.name().strip();
            long now = System.currentTimeMillis();
            // Listed first: should the creation then fail, the listing shows an organization that answers 404,
            // which DELETE clears; the other order could leave one that exists but nobody can find.
            var listed = this.<OrganizationDirectory.Reply>organizationDirectory(replyTo -> new OrganizationDirectory.Add(
                    new OrganizationDirectory.Entry(id, name, finalCidr, now), replyTo));
            return onSuccess(listed, done -> ask(id, replyTo -> new Organization.Create(name, finalCidr,
                    Tokens.hash(secret), now, replyTo), reply -> complete(StatusCodes.CREATED, toEntity(
                    organizationView(reply.state(), token)))));
        });
    }

    /** Deletes the organization and unlists it; also clears a listing whose organization is already gone. */
    private Route deleteOrganization(String organizationId) {
        if (organizationId.isEmpty() || organizationId.length() > 64) {
            throw new ApiException(404, "no such organization");
        }
        CompletionStage<Organization.Reply> deleted = sharding.entityRefFor(Organization.ENTITY_KEY, organizationId)
                .ask(Organization.Delete::new, settings.askTimeout());
        return onSuccess(deleted.thenCompose(reply -> this.<OrganizationDirectory.Reply>organizationDirectory(replyTo ->
                        new OrganizationDirectory.Remove(organizationId, replyTo))
                        .thenApply(unlisted -> reply.isOk() || unlisted.changed())),
                done -> done ? ok(Map.of("deleted", organizationId)) : error(404, "no such organization"));
    }

    /** Every organization for the admin token; only its own for an organization's API token. */
    private Route listOrganizations(String auth, Optional<String> name, Optional<String> offsetText,
            Optional<String> limitText) {
        int offset = number(offsetText, 0, "offset");
        int limit = number(limitText, 100, "limit");
        if (limit < 1 || limit > 1000) {
            throw new ApiException(400, "limit must be 1 to 1000");
        }
        if (name.isPresent() && name.get().length() > 64) {
            throw new ApiException(400, "name filter: at most 64 characters");
        }
        if (isAdmin(auth)) {
            return onSuccess(this.<OrganizationDirectory.Page>organizationDirectory(replyTo -> new OrganizationDirectory.GetPage(name.orElse(null),
                    offset, limit, replyTo)), page -> ok(Map.of("total", page.total(), "offset", offset,
                    "organizations", page.organizations().stream().map(this::organizationView).toList())));
        }
        TokenKind.Parsed token = TokenKind.parseAny(auth)
                .orElseThrow(() -> new ApiException(401, "unknown token"));
        if (token.kind() != TokenKind.ORGANIZATION) {
            throw new ApiException(403, "listing organizations needs the admin token or an organization API token");
        }
        CompletionStage<Organization.Reply> reply = token.organizationId().isEmpty()
                || token.organizationId().length() > 64
                ? CompletableFuture.completedFuture(new Organization.Reply(404, "no such organization", null, null, null))
                : sharding.entityRefFor(Organization.ENTITY_KEY, token.organizationId())
                        .ask(Organization.Get::new, settings.askTimeout());
        return onSuccess(reply, answer -> {
            // A token of an organization that does not exist is as unknown as a forged one.
            if (!answer.isOk() || !Tokens.sameHash(answer.state().apiTokenHash(), token.secret())) {
                throw new ApiException(401, "unknown token");
            }
            Organization.State state = answer.state();
            boolean matches = name.map(filter -> state.name().contains(filter)).orElse(true);
            List<Map<String, Object>> own = matches
                    ? List.of(organizationView(new OrganizationDirectory.Entry(state.id(), state.name(),
                            state.ipv4Cidr(), state.createdMillis())))
                    : List.of();
            return ok(Map.of("total", own.size(), "offset", offset,
                    "organizations", own.stream().skip(offset).toList()));
        });
    }

    private <T> CompletionStage<T> organizationDirectory(
            org.apache.pekko.japi.function.Function<org.apache.pekko.actor.typed.ActorRef<T>, OrganizationDirectory.Command> command) {
        return sharding.entityRefFor(OrganizationDirectory.ENTITY_KEY, OrganizationDirectory.ID).ask(command, settings.askTimeout());
    }

    private Map<String, Object> organizationView(OrganizationDirectory.Entry entry) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", entry.id());
        view.put("name", entry.name());
        view.put("ipv4Cidr", entry.ipv4Cidr());
        view.put("ipv6Prefix", Ipam.ulaPrefix(entry.id()));
        view.put("createdAt", entry.createdMillis());
        return view;
    }

    private Map<String, Object> organizationView(Organization.State state, String apiToken) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", state.id());
        view.put("name", state.name());
        view.put("ipv4Cidr", state.ipv4Cidr());
        view.put("ipv6Prefix", Ipam.ulaPrefix(state.id()));
        view.put("createdAt", state.createdMillis());
        view.put("revision", state.revision());
        view.put("devices", state.devices().size());
        if (apiToken != null) {
            view.put("apiToken", apiToken);
        }
        return view;
    }

    private Route createKey(String organizationId, Requests.CreateKey request) {
        boolean reusable = request.reusable() != null && request.reusable();
        boolean approvalRequired = request.approvalRequired() != null && request.approvalRequired();
        long expiresIn = request.expiresInSeconds() == null ? 0 : request.expiresInSeconds();
        if (expiresIn < 0 || expiresIn > 10L * 365 * 86400) {
            throw new ApiException(400, "expiresInSeconds must be between 0 (never) and 10 years");
        }
        String keyId = "k" + Tokens.randomHex(4);
        String secret = Tokens.randomHex(24);
        long now = System.currentTimeMillis();
        long expiresAt = expiresIn == 0 ? 0 : now + expiresIn * 1000;
        return ask(organizationId, replyTo -> new Organization.CreateKey(keyId, Tokens.hash(secret), reusable,
                expiresAt, now, approvalRequired, replyTo), reply -> {
                    Map<String, Object> view = keyView(reply.state().keys().get(keyId));
                    view.put("key", TokenKind.REGISTRATION_KEY.format(organizationId, keyId, secret));
                    return complete(StatusCodes.CREATED, toEntity(view));
                });
    }

    private Map<String, Object> keyView(Organization.RegistrationKey key) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", key.id());
        view.put("reusable", key.reusable());
        view.put("createdAt", key.createdMillis());
        view.put("expiresAt", key.expiresAtMillis() == 0 ? null : key.expiresAtMillis());
        view.put("revoked", key.revoked());
        view.put("uses", key.uses());
        view.put("approvalRequired", key.approvalRequired());
        return view;
    }

    private Route listDevices(Organization.State state, Optional<String> status, Optional<String> hostname,
            Optional<String> offsetText, Optional<String> limitText) {
        int offset = number(offsetText, 0, "offset");
        int limit = number(limitText, 100, "limit");
        if (limit < 1 || limit > 1000) {
            throw new ApiException(400, "limit must be 1 to 1000");
        }
        List<Organization.DeviceRecord> matching = state.devices().values().stream()
                .filter(d -> status.map(s -> s.equals(d.status())).orElse(true))
                .filter(d -> hostname.map(h -> d.hostname().contains(h)).orElse(true))
                .sorted(Comparator.comparing(Organization.DeviceRecord::hostname))
                .toList();
        List<Map<String, Object>> page = matching.stream().skip(offset).limit(limit).map(this::deviceView).toList();
        return ok(Map.of("total", matching.size(), "offset", offset, "devices", page));
    }

    private static int number(Optional<String> text, int fallback, String name) {
        try {
            int value = text.map(Integer::parseInt).orElse(fallback);
            if (value < 0) {
                throw new ApiException(400, name + " must not be negative");
            }
            return value;
        } catch (NumberFormatException e) {
            throw new ApiException(400, name + " must be a number");
        }
    }

    private Map<String, Object> deviceView(Organization.DeviceRecord device) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", device.id());
        view.put("hostname", device.hostname());
        view.put("publicKey", device.publicKey());
        view.put("overlayIps", device.overlayIps());
        view.put("endpoints", device.endpoints());
        view.put("nat", device.nat());
        view.put("metadata", device.metadata());
        view.put("status", device.status());
        view.put("registeredAt", device.registeredMillis());
        view.put("lastSeen", device.lastSeenMillis());
        return view;
    }

    private Route patchDevice(Organization.DeviceRecord device, Requests.PatchDevice request) {
        if (request.hostname() != null && !HOSTNAME.matcher(request.hostname()).matches()) {
            throw new ApiException(400, "hostname must be 1 to 63 letters, digits, '.', '-' or '_'");
        }
        if (request.metadata() != null && request.metadata().size() > 64) {
            throw new ApiException(400, "at most 64 metadata entries");
        }
        return askDevice(device.id(), replyTo -> new Device.Patch(request.hostname(), request.metadata(), replyTo),
                patched -> ask(Tokens.organizationOfDevice(device.id()), replyTo -> new Organization.PatchDevice(
                        device.id(), request.hostname(), request.metadata(), replyTo),
                        reply -> ok(deviceView(patched.device()))));
    }

    // ---- node API ---------------------------------------------------------------------------------------

    private Route register(String auth, RegisterRequest request, RemoteAddress remote) {
        TokenKind.Parsed key = TokenKind.REGISTRATION_KEY.parse(auth)
                .orElseThrow(() -> new ApiException(401, "registration needs a registration key as bearer token"));
        byte[] publicKey = parsePublicKey(request.publicKey());
        if (request.hostname() == null || !HOSTNAME.matcher(request.hostname()).matches()) {
            throw new ApiException(400, "hostname must be 1 to 63 letters, digits, '.', '-' or '_'");
        }
        String organizationId = key.organizationId();
        String deviceId = Tokens.newDeviceId(organizationId);
        String secret = Tokens.randomHex(24);
        List<Endpoint> endpoints = new ArrayList<>(request.endpoints() == null ? List.of() : request.endpoints());
        observed(remote).ifPresent(address -> endpoints.add(new Endpoint(address, "control")));
        CertificateAuthority.Issued certificate = ca.issueDeviceCertificate(deviceId, publicKey);
        CompletionStage<RelaysForDevices> relays = relaysForDevices();
        // The organization admits the device (key, address, peer map): that is the registration, written once.
        // The device's own entity then takes the record on in memory (it writes nothing until the device changes
        // something); should that message be lost, say while its shard moves, the entity takes the record on from
        // the organization at the device's first request. It starts (reads its empty journal) while the
        // organization decides.
        sharding.entityRefFor(Device.ENTITY_KEY, deviceId).tell(new Device.Prepare());
        CompletionStage<Organization.Reply> admitted = batched(organizationId, replyTo -> new Organization.Register(
                key.id(), Tokens.hash(key.secret()), deviceId, request.publicKey(), request.hostname(),
                request.metadata(), endpoints, Tokens.hash(secret), certificate.serialHex(), System.currentTimeMillis(),
                replyTo));
        return onSuccess(admitted, reply -> {
            if (reply.status() == Organization.Reply.REPEAT) {
                return repeatRegistration(key, request.publicKey(), publicKey, reply.device(), remote, relays);
            }
            if (!reply.isOk()) {
                return error(reply.status(), reply.error());
            }
            sharding.entityRefFor(Device.ENTITY_KEY, deviceId)
                    .tell(new Device.Register(reply.device(), system.ignoreRef()));
            return onSuccess(relays, forDevices -> {
                registrations.increment();
                return complete(StatusCodes.CREATED, toEntity(new RegisterResponse(deviceId, organizationId,
                        TokenKind.DEVICE.format(deviceId, secret), reply.device().overlayIps(), certificate.pem(),
                        ca.certificatePem(), forDevices.relays(), forDevices.stunServers(),
                        observed(remote).orElse(null), reply.device().status(), reply.overlayPrefixes())));
            });
        });
    }

    /**
     * The registration of {@code existing} again, with a new token and certificate, when its first answer was lost
     * (the organization found the rules of docs/api.md met). Its entity is asked first whether the device has been
     * seen, which a pending device's reports or an unchanged one's tell only it; then the organization re-checks
     * and writes the new credentials, the entity takes them on (so the old token stops working), and relays learn
     * that the old certificate is revoked. Answered like a first registration, with 201.
     */
    private Route repeatRegistration(TokenKind.Parsed key, String publicKeyText, byte[] publicKey,
            Organization.DeviceRecord existing, RemoteAddress remote, CompletionStage<RelaysForDevices> relays) {
        String organizationId = key.organizationId();
        String deviceId = existing.id();
        String alreadyRegistered = "a device with this public key is already registered (" + deviceId + ")";
        return onSuccess(deviceAdopting(deviceId, () -> CompletableFuture.completedFuture(existing)), current -> {
            if (!current.isOk()) {
                return error(current.status() == 404 ? 409 : current.status(),
                        current.status() == 404 ? alreadyRegistered : current.error());
            }
            if (current.device().lastSeenMillis() != current.device().registeredMillis()
                    || current.device().status().equals(Organization.DeviceRecord.REVOKED)) {
                return error(409, alreadyRegistered);
            }
            String secret = Tokens.randomHex(24);
            CertificateAuthority.Issued certificate = ca.issueDeviceCertificate(deviceId, publicKey);
            CompletionStage<Organization.Reply> repeated = organization(organizationId, replyTo ->
                    new Organization.RepeatRegistration(key.id(), Tokens.hash(key.secret()), deviceId, publicKeyText,
                            Tokens.hash(secret), certificate.serialHex(), System.currentTimeMillis(), replyTo));
            return onSuccess(repeated, reply -> {
                if (!reply.isOk()) {
                    return error(reply.status(), reply.error());
                }
                // Asked, not told: the answer must not carry a token the device's entity does not take yet.
                CompletionStage<Device.Reply> taken = deviceEntity(deviceId,
                        replyTo -> new Device.TakeCredentials(reply.device(), replyTo));
                return onSuccess(taken, device -> !device.isOk() ? error(device.status(), device.error())
                        : onSuccess(revokeCertificate(existing).thenCompose(revoked -> relays), forDevices -> {
                            repeatedRegistrations.increment();
                            return complete(StatusCodes.CREATED, toEntity(new RegisterResponse(deviceId,
                                    organizationId, TokenKind.DEVICE.format(deviceId, secret), reply.device().overlayIps(),
                                    certificate.pem(), ca.certificatePem(), forDevices.relays(),
                                    forDevices.stunServers(), observed(remote).orElse(null), reply.device().status(),
                                    reply.overlayPrefixes())));
                        }));
            });
        });
    }

    /**
     * Configured relays, then every enrolled relay that reported itself healthy; with the STUN servers devices probe:
     * the configured ones, then the healthy relays' (see {@link RelaysForDevices}).
     */
    private CompletionStage<RelaysForDevices> relaysForDevices() {
        long now = System.nanoTime();
        RelayList cached = relayList.get();
        if (cached != null && now - cached.readNanos() < RELAY_LIST_TTL.toNanos()
                && !cached.relays().toCompletableFuture().isCompletedExceptionally()) {
            return cached.relays();
        }
        CompletionStage<RelaysForDevices> fresh = sharding.entityRefFor(RelayDirectory.ENTITY_KEY, RelayDirectory.ID)
                .ask(RelayDirectory.Get::new, settings.askTimeout())
                .thenApply(reply -> RelaysForDevices.of(settings.relays(), settings.stunServers(),
                        reply.state().relays().values()));
        relayList.set(new RelayList(now, fresh));
        return fresh;
    }

    private static byte[] parsePublicKey(String text) {
        if (text == null) {
            throw new ApiException(400, "publicKey is required");
        }
        try {
            byte[] key = Base64.getDecoder().decode(text);
            if (key.length != 32) {
                throw new ApiException(400, "publicKey must be 32 bytes of base64, as wg pubkey prints it");
            }
            return key;
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "publicKey is not base64");
        }
    }

    private Route reportEndpoints(String auth, EndpointReport report, RemoteAddress remote) {
        List<Endpoint> endpoints = new ArrayList<>(report.endpoints() == null ? List.of() : report.endpoints());
        if (endpoints.size() > 32) {
            throw new ApiException(400, "at most 32 endpoints");
        }
        if (endpoints.contains(null)) {
            throw new ApiException(400, "endpoints: null is not an endpoint");
        }
        observed(remote).ifPresent(address -> endpoints.add(new Endpoint(address, "control")));
        return withSelf(auth, (organizationId, device) -> askDevice(device.id(), replyTo -> new Device.Report(
                endpoints, report.nat(), System.currentTimeMillis(), replyTo), reported -> onSuccess(
                updateOrganization(organizationId, reported), revision -> {
                    if (revision == FAILED) {
                        return error(reported.isOk() ? 503 : reported.status(),
                                reported.isOk() ? "the organization did not take the report; retry" : reported.error());
                    }
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("observedAddress", observed(remote).orElse(""));
                    body.put("changed", revision != UNCHANGED);
                    if (revision != UNCHANGED) {
                        body.put("revision", revision);
                    }
                    return ok(body);
                })));
    }

    private Route peerStream(String auth, Optional<String> sinceText) {
        long since = sinceText.map(text -> {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new ApiException(400, "since must be a revision number");
            }
        }).orElse(0L);
        return withSelf(auth, (organizationId, device) -> {
            if (device.status().equals(Organization.DeviceRecord.PENDING)) {
                // Not permanent: the node asks again until an administrator approves it.
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("error", "device " + device.id() + " is waiting for an administrator to approve it");
                body.put("code", PENDING_APPROVAL);
                return complete(StatusCodes.FORBIDDEN, toEntity(body));
            }
            AtomicLong revision = new AtomicLong(since);
            // The policy this connection last sent, so an unchanged one is not sent again.
            AtomicReference<SecurityPolicy> policySent = new AtomicReference<>();
            AtomicReference<PeerMapFeeds.Share> share = new AtomicReference<>();
            // The member's shared feed brings every delta of the organization and keeps its whole map. A stream
            // starts from that map, or, resuming from a revision, asks the organization for the changes it missed
            // (the feed's map again when those are no longer kept); it asks again only after a gap (see
            // PeerMapFeeds). A client that reads too slowly loses buffered deltas, which is such a gap. A shared
            // delta in which some policy may have changed carries what policies are resolved from, and the stream
            // resolves its own device's.
            Source<PeerMapFeeds.Delta, NotUsed> shared = Source.lazySource(() -> {
                        share.set(feeds.acquire(organizationId));
                        return Source.single(OWN_START)
                                .concat(share.get().deltas());
                    })
                    .mapMaterializedValue(any -> NotUsed.getInstance());
            Source<ByteString, ?> events = shared
                    .mapAsync(1, delta -> {
                        long mine = revision.get();
                        if (delta == OWN_START) {
                            return sinceText.isEmpty() ? share.get().snapshot(device.id())
                                    : share.get().catchUp(mine, device.id());
                        }
                        if (delta.peerMap().revision() <= mine) {
                            return CompletableFuture.completedFuture(ALREADY_SEEN);
                        }
                        if (delta.fromRevision() <= mine || delta.peerMap().full()) {
                            return CompletableFuture.completedFuture(PeerMapFeeds.Answer.of(new Organization.Reply(
                                    200, null, null, null, delta.peerMap().forWatcher(device.id()))));
                        }
                        return share.get().catchUp(mine, device.id());
                    })
                    .filter(answer -> answer != ALREADY_SEEN)
                    .takeWhile(answer -> answer.reply().isOk()
                            && !removedSelf(answer.reply().peerMap(), device.id()))
                    .mapConcat(answer -> {
                        Organization.PeerMap map = answer.reply().peerMap();
                        boolean first = revision.get() == since && sinceText.isEmpty();
                        boolean newPolicy = map.policy() != null && !map.policy().equals(policySent.get());
                        // Also when nothing in it concerns this device (a group change that leaves its policy as it
                        // was): the stream is up to date to there, and the next shared delta follows on without a gap.
                        revision.set(map.revision());
                        if (!map.full() && map.peers().isEmpty() && map.removed().isEmpty() && !newPolicy && !first) {
                            return List.<ByteString>of();
                        }
                        if (map.full()) {
                            policySent.set(map.policy());
                            if (answer.shared() != null) {
                                return List.of(answer.shared().snapshotLine(device.id(), map.policy(), json));
                            }
                        }
                        List<ByteString> out = new ArrayList<>();
                        var others = map.peers().stream().filter(p -> !p.id().equals(device.id())).toList();
                        if (map.full()) {
                            out.add(line(new PeerMapEvent(PeerMapEvent.SNAPSHOT, map.revision(), others, List.of(),
                                    map.policy(), map.overlayPrefixes())));
                        } else {
                            if (!others.isEmpty()) {
                                out.add(line(new PeerMapEvent(PeerMapEvent.UPSERT, map.revision(), others, List.of())));
                            }
                            if (!map.removed().isEmpty()) {
                                out.add(line(new PeerMapEvent(PeerMapEvent.REMOVE, map.revision(), List.of(),
                                        map.removed())));
                            }
                            if (newPolicy) {
                                out.add(line(new PeerMapEvent(PeerMapEvent.POLICY, map.revision(), List.of(), List.of(),
                                        map.policy())));
                                policySent.set(map.policy());
                            }
                        }
                        return out;
                    })
                    .keepAlive(Duration.ofSeconds(15), () -> line(new PeerMapEvent(PeerMapEvent.KEEPALIVE,
                            revision.get(), List.of(), List.of())))
                    // A member shutting down or an organization not answering ends the stream; the node resumes
                    // from its last revision on another connection.
                    .recoverWithRetries(1, Throwable.class, Source::empty)
                    .watchTermination((mat, done) -> {
                        watchers.incrementAndGet();
                        done.whenComplete((ok, failure) -> {
                            watchers.decrementAndGet();
                            if (share.get() != null) {
                                feeds.release(organizationId);
                            }
                        });
                        return mat;
                    });
            return complete(HttpResponse.create().withEntity(HttpEntities.createChunked(NDJSON, events)));
        });
    }

    /** Marks the start of a stream: its first map is the feed's whole one, or what it missed since its revision. */
    private static final PeerMapFeeds.Delta OWN_START = new PeerMapFeeds.Delta(Long.MIN_VALUE, null);
    /** Answer to a shared delta a stream already has. */
    private static final PeerMapFeeds.Answer ALREADY_SEEN =
            PeerMapFeeds.Answer.of(new Organization.Reply(204, null, null, null, null));

    /** One line of the peer-map stream (NDJSON). */
    private ByteString line(PeerMapEvent event) {
        try {
            return ByteString.fromArray(json.writeValueAsBytes(event)).concat(ByteString.fromString("\n"));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a peer-map event did not render as JSON", e);
        }
    }

    /** A revoked or deleted device's own stream ends. */
    private static boolean removedSelf(Organization.PeerMap map, String deviceId) {
        return map.removed().contains(deviceId);
    }

    // ---- authorization ------------------------------------------------------------------------------------

    private Route authorization(Function<String, Route> inner) {
        return optionalHeaderValueByName("Authorization", header -> {
            String token = header.filter(h -> h.startsWith("Bearer ")).map(h -> h.substring(7).strip())
                    .orElseThrow(() -> new ApiException(401, "missing bearer token (Authorization: Bearer ...)"));
            return inner.apply(token);
        });
    }

    private boolean isAdmin(String token) {
        return MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8),
                settings.adminToken().getBytes(StandardCharsets.UTF_8));
    }

    private Route adminOnly(String token, Supplier<Route> inner) {
        if (!isAdmin(token)) {
            Optional<TokenKind.Parsed> parsed = TokenKind.parseAny(token);
            throw new ApiException(parsed.isPresent() ? 403 : 401,
                    parsed.isPresent() ? "this needs the admin token" : "unknown token");
        }
        return inner.get();
    }

    /** Runs {@code inner} with the organization's state when the token is the admin's or that organization's. */
    private Route withOrganization(String token, String organizationId, Function<Organization.State, Route> inner) {
        boolean admin = isAdmin(token);
        Optional<TokenKind.Parsed> parsed = TokenKind.ORGANIZATION.parse(token);
        if (!admin && parsed.isEmpty()) {
            throw new ApiException(401, "this needs the admin token or an organization API token");
        }
        if (!admin && !parsed.get().organizationId().equals(organizationId)) {
            throw new ApiException(404, "no such organization");
        }
        return ask(organizationId, Organization.Get::new, reply -> {
            if (!admin && !Tokens.sameHash(reply.state().apiTokenHash(), parsed.get().secret())) {
                throw new ApiException(401, "unknown token");
            }
            return inner.apply(reply.state());
        });
    }

    /** Runs {@code inner} with the device as its entity has it, when the token may act on its organization. */
    private Route withDevice(String token, String deviceId, Function<Organization.DeviceRecord, Route> inner) {
        return withOrganization(token, Tokens.organizationOfDevice(deviceId), state -> {
            Organization.DeviceRecord listed = state.devices().get(deviceId);
            if (listed == null) {
                throw new ApiException(404, "no such device");
            }
            return onSuccess(deviceAdopting(deviceId, () -> CompletableFuture.completedFuture(listed)),
                    reply -> reply.isOk() ? inner.apply(reply.device()) : error(reply.status(), reply.error()));
        });
    }

    /**
     * Runs {@code inner} with the organization id and the device a device token belongs to, as its own entity has
     * it: a device's requests need not pass through its organization. Revoked devices are refused, pending ones not.
     */
    private Route withSelf(String token, java.util.function.BiFunction<String, Organization.DeviceRecord, Route> inner) {
        TokenKind.Parsed parsed = TokenKind.DEVICE.parse(token)
                .orElseThrow(() -> new ApiException(401, "this needs a device token"));
        String organizationId = parsed.organizationId();
        if (organizationId.isEmpty() || organizationId.length() > 64 || parsed.id().length() > 128) {
            throw new ApiException(401, "unknown device token");
        }
        return onSuccess(deviceAdopting(parsed.id(), () -> organization(organizationId,
                replyTo -> new Organization.GetDevice(parsed.id(), replyTo))
                .thenApply(reply -> reply.isOk() ? reply.device() : null)), reply -> {
            Organization.DeviceRecord device = reply.device();
            if (!reply.isOk() || !Tokens.sameHash(device.tokenHash(), parsed.secret())) {
                throw new ApiException(401, "unknown device token");
            }
            if (device.status().equals(Organization.DeviceRecord.REVOKED)) {
                throw new ApiException(403, "device revoked");
            }
            return inner.apply(organizationId, device);
        });
    }

    /**
     * The device's entity's answer to Get. A device its organization has but whose entity has nothing (it changed
     * nothing since it registered and the entity restarted, or it registered before devices had entities) is taken
     * on from the organization's record, which {@code listed} supplies (null: the organization has no such device).
     */
    private CompletionStage<Device.Reply> deviceAdopting(String deviceId,
            Supplier<CompletionStage<Organization.DeviceRecord>> listed) {
        return deviceEntity(deviceId, Device.Get::new).thenCompose(reply -> {
            if (reply.status() != 404) {
                return CompletableFuture.completedFuture(reply);
            }
            return listed.get().thenCompose(record -> record == null
                    ? CompletableFuture.completedFuture(reply)
                    : deviceEntity(deviceId, replyTo -> new Device.Register(record, replyTo)));
        });
    }

    /** {@link #updateOrganization}: the device entity or the organization refused or failed. */
    private static final long FAILED = -1;
    /** {@link #updateOrganization}: nothing changed, so the organization was not asked. */
    private static final long UNCHANGED = -2;

    /**
     * Tells the organization a device's endpoints when its entity says the organization must hear them. Answers the
     * organization revision that carries the change, {@link #UNCHANGED} when it did not need them, or
     * {@link #FAILED}.
     */
    private CompletionStage<Long> updateOrganization(String organizationId, Device.Reply reported) {
        if (!reported.isOk()) {
            return CompletableFuture.completedFuture(FAILED);
        }
        if (!reported.tellOrganization()) {
            return CompletableFuture.completedFuture(UNCHANGED);
        }
        Organization.DeviceRecord device = reported.device();
        return batched(organizationId, replyTo -> new Organization.ReportEndpoints(device.id(),
                device.endpoints(), device.nat(), device.lastSeenMillis(), replyTo)).thenApply(reply -> {
                    if (reply.isOk()) {
                        sharding.entityRefFor(Device.ENTITY_KEY, device.id())
                                .tell(new Device.OrganizationUpdated(device.endpoints(), device.nat()));
                    }
                    return reply.isOk() ? reply.revision() : FAILED;
                });
    }

    // ---- plumbing -----------------------------------------------------------------------------------------

    private Route ask(String organizationId,
            org.apache.pekko.japi.function.Function<org.apache.pekko.actor.typed.ActorRef<Organization.Reply>, Organization.Command> command,
            Function<Organization.Reply, Route> onOk) {
        if (organizationId.isEmpty() || organizationId.length() > 64) {
            throw new ApiException(404, "no such organization");
        }
        CompletionStage<Organization.Reply> reply = sharding.entityRefFor(Organization.ENTITY_KEY, organizationId)
                .ask(command, settings.askTimeout());
        return onSuccess(reply, answer -> answer.isOk() ? onOk.apply(answer) : error(answer.status(), answer.error()));
    }

    /** A registration or endpoint change for the organization, written together with others (group commit). */
    private CompletionStage<Organization.Reply> batched(String organizationId,
            Function<org.apache.pekko.actor.typed.ActorRef<Organization.Reply>, Organization.Batchable> command) {
        if (organizationId.isEmpty() || organizationId.length() > 64) {
            return CompletableFuture.completedFuture(
                    new Organization.Reply(404, "no such organization", null, null, null));
        }
        return AskPattern.ask(writer, replyTo -> new OrganizationWriter.Submit(organizationId, command.apply(replyTo)),
                settings.askTimeout(), system.scheduler());
    }

    private CompletionStage<Organization.Reply> organization(String organizationId,
            org.apache.pekko.japi.function.Function<org.apache.pekko.actor.typed.ActorRef<Organization.Reply>, Organization.Command> command) {
        return sharding.entityRefFor(Organization.ENTITY_KEY, organizationId).ask(command, settings.askTimeout());
    }

    private CompletionStage<Device.Reply> deviceEntity(String deviceId,
            org.apache.pekko.japi.function.Function<org.apache.pekko.actor.typed.ActorRef<Device.Reply>, Device.Command> command) {
        return sharding.entityRefFor(Device.ENTITY_KEY, deviceId).ask(command, settings.askTimeout());
    }

    private Route askDevice(String deviceId,
            org.apache.pekko.japi.function.Function<org.apache.pekko.actor.typed.ActorRef<Device.Reply>, Device.Command> command,
            Function<Device.Reply, Route> onOk) {
        return onSuccess(deviceEntity(deviceId, command),
                answer -> answer.isOk() ? onOk.apply(answer) : error(answer.status(), answer.error()));
    }

    private <T> Route body(Class<T> type, Function<T, Route> inner) {
        return entity(Unmarshaller.entityToString(), text -> {
            T value;
            try {
                value = json.readValue(text, type);
            } catch (UnrecognizedPropertyException e) {
                throw new ApiException(400, "unknown field \"" + e.getPropertyName() + "\"");
            } catch (JsonProcessingException e) {
                throw new ApiException(400, "malformed JSON: " + e.getOriginalMessage());
            }
            if (value == null) {
                throw new ApiException(400, "a JSON object is required");
            }
            return inner.apply(value);
        });
    }

    private Route clientAddress(Function<RemoteAddress, Route> inner) {
        return extractClientIP(inner::apply);
    }

    private static Optional<String> observed(RemoteAddress remote) {
        return remote.getAddress().map(address -> {
            String host = address.getHostAddress();
            int port = remote.getPort();
            if (port <= 0) {
                return null;
            }
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        });
    }

    private Route openApi() {
        try (InputStream in = ControlRoutes.class.getResourceAsStream("/openapi.json")) {
            return complete(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
                    in.readAllBytes())));
        } catch (IOException | NullPointerException e) {
            return error(500, "the OpenAPI document is missing from this build");
        }
    }

    private Route ok(Object body) {
        return complete(StatusCodes.OK, toEntity(body));
    }

    private org.apache.pekko.http.javadsl.model.ResponseEntity toEntity(Object body) {
        try {
            return HttpEntities.create(ContentTypes.APPLICATION_JSON, json.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Route error(int status, String message) {
        return complete(StatusCodes.get(status), toEntity(new ApiError(message)));
    }

    private ExceptionHandler exceptions() {
        return ExceptionHandler.newBuilder()
                .match(ApiException.class, e -> error(e.status, e.getMessage()))
                .match(java.util.concurrent.TimeoutException.class, e -> error(503, "the cluster did not answer in time"))
                .matchAny(e -> {
                    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                            ? e.getCause() : e;
                    if (cause instanceof ApiException api) {
                        return error(api.status, api.getMessage());
                    }
                    if (cause instanceof java.util.concurrent.TimeoutException) {
                        return error(503, "the cluster did not answer in time");
                    }
                    system.log().warn("request failed: {}", cause.toString());
                    return error(500, "internal error");
                })
                .build();
    }

    private RejectionHandler rejections() {
        return RejectionHandler.defaultHandler().mapRejectionResponse(response -> {
            if (response.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) {
                return response;
            }
            String text = response.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict
                    ? strict.getData().utf8String() : response.status().reason();
            try {
                return response.withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
                        json.writeValueAsBytes(new ApiError(text))));
            } catch (JsonProcessingException e) {
                return response;
            }
        });
    }
}
