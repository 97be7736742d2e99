package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.ControlServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every route of the API against every kind of credential (docs/api.md, "Conventions" and "Routes"): one table,
 * {@link #MATRIX}, with a row per route and the status each credential must get. The table's routes are the
 * OpenAPI document's and docs/api.md's, so a route added to either without a row here fails
 * {@link #theMatrixCoversEveryDocumentedRoute}; a route that answers a credential otherwise than its row says fails
 * {@link #everyRouteAnswersEveryCredentialAsTheMatrixSays}.
 *
 * <p>Path parameters are filled in by the segment before them: an organization ({@code organizations/{id}}), a
 * device ({@code devices/{id}}), a key, a security group, a relay or a relay token. They are those of the
 * credentials' own: organization A, its device A1, relay R1. A row marked {@code fresh} acts on one made for each
 * credential (its last parameter: a new organization, device of A, key of A, group of A, relay or relay token), so
 * that a credential allowed to delete it leaves the others theirs; "own org" is then the new organization's token.
 */
class AuthorizationMatrixTest {

    /** The kinds of credential, in the order of the table's columns. */
    enum Credential {
        /** No Authorization header. */
        NONE,
        /** The admin token. */
        ADMIN,
        /** The API token of the organization in the path (A, or the fresh one). */
        OWN_ORG,
        /** The API token of another organization, B. */
        OTHER_ORG,
        /** The device token of A1, the device in device paths. */
        DEVICE,
        /** The device token of A2, another active device of A. */
        OTHER_DEVICE,
        /** The token relay R1, the relay in relay paths, enrolled with. */
        RELAY,
        /** The token of another enrolled relay, R2. */
        OTHER_RELAY,
        /** A reusable registration key of A. */
        REGISTRATION_KEY,
        /** The device token of a revoked device of A. */
        REVOKED_DEVICE,
        /** The device token of a deleted device of A. */
        DELETED_DEVICE,
        /** The device token of a device of A registered with a key that requires approval, not approved yet. */
        PENDING_DEVICE
    }

    /**
     * The matrix. {@code body}: the named valid body the request carries ({@link #body}), so that no row is decided
     * by a 400. {@code fresh}: the row's last path parameter is made anew for each credential.
     */
    static final String MATRIX = """
            method path                                               fresh body         none admin own  othr dev  odev rel  orel key  rvkd deld pend
            GET    /health                                            -     -            200  200   200  200  200  200  200  200  200  200  200  200
            GET    /ready                                             -     -            200  200   200  200  200  200  200  200  200  200  200  200
            GET    /metrics                                           -     -            401  200   403  403  403  403  403  403  403  403  403  403
            GET    /api/v1/openapi.json                               -     -            200  200   200  200  200  200  200  200  200  200  200  200
            GET    /api/v1/cluster                                    -     -            401  200   403  403  403  403  403  403  403  403  403  403
            POST   /api/v1/organizations                              -     organization 401  201   403  403  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations                              -     -            401  200   200  200  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations/{id}                         -     -            401  200   200  404  403  403  403  403  403  403  403  403
            DELETE /api/v1/organizations/{id}                         fresh -            401  200   403  403  403  403  403  403  403  403  403  403
            PATCH  /api/v1/organizations/{id}                         -     dnsDomain    401  200   200  404  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations/{id}/dns                     -     -            401  200   200  404  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations/{id}/dns/records             -     -            401  200   200  404  403  403  403  403  403  403  403  403
            POST   /api/v1/organizations/{id}/dns/records             -     dnsRecord    401  201   201  404  403  403  403  403  403  403  403  403
            DELETE /api/v1/organizations/{id}/dns/records             -     -            401  400   400  404  403  403  403  403  403  403  403  403
            DELETE /api/v1/organizations/{id}/dns/records/{recordId}  fresh -            401  200   200  404  403  403  403  403  403  403  403  403
            POST   /api/v1/organizations/{id}/keys                    -     key          401  201   201  404  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations/{id}/keys                    -     -            401  200   200  404  403  403  403  403  403  403  403  403
            DELETE /api/v1/organizations/{id}/keys/{keyId}            fresh -            401  200   200  404  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations/{id}/devices                 -     -            401  200   200  404  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations/{id}/route-approvers         -     -            401  200   200  404  403  403  403  403  403  403  403  403
            PUT    /api/v1/organizations/{id}/route-approvers         -     approvers    401  200   200  404  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations/{id}/security-groups         -     -            401  200   200  404  403  403  403  403  403  403  403  403
            POST   /api/v1/organizations/{id}/security-groups         -     group        401  201   201  404  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations/{id}/security-groups/{name}  -     -            401  200   200  404  403  403  403  403  403  403  403  403
            PUT    /api/v1/organizations/{id}/security-groups/{name}  -     groupRules   401  200   200  404  403  403  403  403  403  403  403  403
            DELETE /api/v1/organizations/{id}/security-groups/{name}  fresh -            401  200   200  404  403  403  403  403  403  403  403  403
            GET    /api/v1/devices/{id}                               -     -            401  200   200  404  403  403  403  403  403  403  403  403
            GET    /api/v1/devices/{id}/peers                         -     -            401  200   200  404  403  403  403  403  403  403  403  403
            PATCH  /api/v1/devices/{id}                               -     patch        401  200   200  404  403  403  403  403  403  403  403  403
            DELETE /api/v1/devices/{id}                               fresh -            401  200   200  404  403  403  403  403  403  403  403  403
            POST   /api/v1/devices/{id}/approve                       -     -            401  200   200  404  403  403  403  403  403  403  403  403
            POST   /api/v1/devices/{id}/revoke                        fresh -            401  200   200  404  403  403  403  403  403  403  403  403
            POST   /api/v1/devices/{id}/routes                        -     review       401  200   200  404  403  403  403  403  403  403  403  403
            POST   /api/v1/register                                   -     register     401  403   403  403  403  403  403  403  201  403  403  403
            POST   /api/v1/devices/self/endpoints                     -     report       401  403   403  403  200  200  403  403  403  403  401  200
            POST   /api/v1/devices/self/certificate                   -     -            401  403   403  403  200  200  403  403  403  403  401  200
            POST   /api/v1/devices/self/routes                        -     advertise    401  403   403  403  200  200  403  403  403  403  401  200
            GET    /api/v1/peers/stream                               -     -            401  403   403  403  200  200  403  403  403  403  401  403
            GET    /api/v1/relays                                     -     -            401  200   403  403  403  403  403  403  403  403  403  403
            POST   /api/v1/relays/tokens                              -     relayToken   401  201   403  403  403  403  403  403  403  403  403  403
            GET    /api/v1/relays/tokens                              -     -            401  200   403  403  403  403  403  403  403  403  403  403
            DELETE /api/v1/relays/tokens/{tokenId}                    fresh -            401  200   403  403  403  403  403  403  403  403  403  403
            DELETE /api/v1/relays/{id}                                fresh -            401  200   403  403  403  403  403  403  403  403  403  403
            POST   /api/v1/relays/register                            -     enroll       401  403   403  403  403  403  200  200  403  403  403  403
            PUT    /api/v1/relays/{id}/health                         -     health       401  403   403  403  403  403  200  403  403  403  403  403
            GET    /api/v1/relays/{id}/revocations                    -     -            401  403   403  403  403  403  200  403  403  403  403  403
            POST   /api/v1/relays/{id}/observations                   -     observations 401  403   403  403  403  403  200  403  403  403  403  403
            POST   /api/v1/devices/self/paths                         -     paths        401  403   403  403  200  200  403  403  403  403  401  200
            POST   /api/v1/devices/self/relay                         -     nodeRelay    401  403   403  403  200  403  403  403  403  403  401  403
            PUT    /api/v1/devices/self/relay/health                  -     health       401  403   403  403  200  403  403  403  403  403  401  403
            GET    /api/v1/devices/self/relay/revocations             -     -            401  403   403  403  200  403  403  403  403  403  401  403
            DELETE /api/v1/devices/self/relay                         -     -            401  403   403  403  200  200  403  403  403  403  401  200
            GET    /api/v1/organizations/{id}/paths                   -     -            401  200   200  404  403  403  403  403  403  403  403  403
            GET    /api/v1/organizations/{id}/paths/stream            -     -            401  200   200  404  403  403  403  403  403  403  403  403
            POST   /api/v1/ui/login-links                             -     -            401  201   201  201  403  403  403  403  403  403  403  403
            POST   /api/v1/ui/session                                 -     login        200  200   200  200  200  200  200  200  200  200  200  200
            GET    /api/v1/ui/session                                 -     -            401  401   401  401  401  401  401  401  401  401  401  401
            DELETE /api/v1/ui/session                                 -     -            401  401   401  401  401  401  401  401  401  401  401  401
            """;

    /** Routes served that the OpenAPI document does not describe: the document itself. */
    private static final Set<String> NOT_IN_OPENAPI = Set.of("GET /api/v1/openapi.json");

    record Row(String method, String path, boolean fresh, String body, Map<Credential, Integer> expected) {
        String route() {
            return method + " " + path;
        }
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        List<String> lines = MATRIX.lines().filter(line -> !line.isBlank()).toList();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.trim().split("\\s+");
            if (cells.length != 4 + Credential.values().length) {
                throw new IllegalStateException("a row needs a status for every credential: " + line);
            }
            Map<Credential, Integer> expected = new EnumMap<>(Credential.class);
            for (Credential credential : Credential.values()) {
                expected.put(credential, Integer.parseInt(cells[4 + credential.ordinal()]));
            }
            rows.add(new Row(cells[0], cells[1], cells[2].equals("fresh"), cells[3], expected));
        }
        return rows;
    }

    private static final String ADMIN = ControlApiTest.ADMIN;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final AtomicInteger UNIQUE = new AtomicInteger();
    private static ControlServer server;
    private static String base;

    /** The world the credentials live in. */
    private static Org orgA;
    private static Org orgB;
    private static String keyA;
    private static Device deviceA1;
    private static Device deviceA2;
    private static Device revoked;
    private static Device deleted;
    private static Device pending;
    private static Relay relay1;
    private static Relay relay2;
    private static String groupA;

    record Org(String id, String apiToken) {}

    record Device(String id, String token) {}

    record Relay(String id, String tokenId, String token) {}

    /** What the path parameters and the own-organization credential are for one request. */
    record Target(Org organization, String deviceId, String keyId, String group, String relayId, String tokenId,
            String recordId) {
        Target(Org organization, String deviceId, String keyId, String group, String relayId, String tokenId) {
            this(organization, deviceId, keyId, group, relayId, tokenId, null);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        // Every cell that is refused counts as a failed authentication: no rate limit may answer in its place.
        server = ControlApiTest.startServer(Files.createTempDirectory("mwc-matrix"), Map.of(
                "meshwork.control.limits.failed-auth-per-second", 1_000_000,
                "meshwork.control.limits.failed-auth-burst", 1_000_000,
                "meshwork.control.limits.reports-burst", 1_000_000));
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
        orgA = organization();
        orgB = organization();
        keyA = created("POST", "/api/v1/organizations/" + orgA.id() + "/keys", ADMIN, "{\"reusable\":true}")
                .get("key").asText();
        deviceA1 = device();
        deviceA2 = device();
        // A1 may relay for its organization (A2 may not); its relay is enrolled before any row runs.
        created("PATCH", "/api/v1/devices/" + deviceA1.id(), ADMIN, "{\"relayAllowed\":true}");
        created("POST", "/api/v1/devices/self/relay", deviceA1.token(), body("nodeRelay"));
        revoked = device();
        created("POST", "/api/v1/devices/" + revoked.id() + "/revoke", ADMIN, null);
        deleted = device();
        created("DELETE", "/api/v1/devices/" + deleted.id(), ADMIN, null);
        String approvalKey = created("POST", "/api/v1/organizations/" + orgA.id() + "/keys", ADMIN,
                "{\"reusable\":false,\"approvalRequired\":true}").get("key").asText();
        pending = device(approvalKey);
        relay1 = relay();
        relay2 = relay();
        groupA = group();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theMatrixCoversEveryDocumentedRoute() throws Exception {
        Set<String> matrix = new TreeSet<>();
        for (Row row : rows()) {
            assertTrue(matrix.add(row.route()), "one row per route: " + row.route());
        }
        Set<String> openApi = new TreeSet<>(NOT_IN_OPENAPI);
        try (InputStream in = AuthorizationMatrixTest.class.getResourceAsStream("/openapi.json")) {
            JSON.readTree(in).get("paths").fields().forEachRemaining(path -> path.getValue().fieldNames()
                    .forEachRemaining(method -> {
                        if (Set.of("get", "put", "post", "patch", "delete", "head", "options").contains(method)) {
                            openApi.add(method.toUpperCase() + " " + path.getKey());
                        }
                    }));
        }
        assertEquals(openApi, matrix, "openapi.json's routes and the matrix's rows");
        assertEquals(documentedInApiMd(), matrix, "docs/api.md's route table and the matrix's rows");
    }

    /** The routes of docs/api.md's "Routes" table, their parameters named as in the OpenAPI document. */
    private static Set<String> documentedInApiMd() throws IOException {
        Path apiMd = Path.of("..", "docs", "api.md");
        Pattern row = Pattern.compile("^\\| (GET|POST|PUT|PATCH|DELETE) \\| `([^`]+)` \\|");
        Set<String> routes = new TreeSet<>();
        for (String line : Files.readAllLines(apiMd, StandardCharsets.UTF_8)) {
            Matcher matcher = row.matcher(line);
            if (matcher.find()) {
                routes.add(matcher.group(1) + " " + matcher.group(2));
            }
        }
        return routes;
    }

    @Test
    void everyRouteAnswersEveryCredentialAsTheMatrixSays() throws Exception {
        List<String> wrong = new ArrayList<>();
        int cells = 0;
        for (Row row : rows()) {
            for (Credential credential : Credential.values()) {
                Target target = row.fresh() ? fresh(row.path()) : new Target(orgA, deviceA1.id(), null, groupA,
                        relay1.id(), relay1.tokenId());
                String path = fill(row.path(), target);
                Answer answer = send(row.method(), path, token(credential, target), body(row.body()));
                cells++;
                int expected = row.expected().get(credential);
                if (answer.status() != expected) {
                    wrong.add(row.route() + " with " + credential + ": " + answer.status() + " (expected " + expected
                            + ") " + answer.text());
                } else if (answer.status() >= 400 && !isJsonError(answer.text())) {
                    wrong.add(row.route() + " with " + credential + ": " + answer.status()
                            + " without a JSON error body: " + answer.text());
                }
            }
        }
        assertEquals(rows().size() * Credential.values().length, cells);
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + cells + " answers differ from the matrix:\n"
                + String.join("\n", wrong));
    }

    private static boolean isJsonError(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            return node != null && node.path("error").isTextual();
        } catch (IOException e) {
            return false;
        }
    }

    private static String token(Credential credential, Target target) {
        return switch (credential) {
            case NONE -> null;
            case ADMIN -> ADMIN;
            case OWN_ORG -> target.organization().apiToken();
            case OTHER_ORG -> orgB.apiToken();
            case DEVICE -> deviceA1.token();
            case OTHER_DEVICE -> deviceA2.token();
            case RELAY -> relay1.token();
            case OTHER_RELAY -> relay2.token();
            case REGISTRATION_KEY -> keyA;
            case REVOKED_DEVICE -> revoked.token();
            case DELETED_DEVICE -> deleted.token();
            case PENDING_DEVICE -> pending.token();
        };
    }

    /** A valid body of each kind a row names; {@code -} for none. */
    private static String body(String name) {
        int unique = UNIQUE.incrementAndGet();
        return switch (name) {
            case "-" -> null;
            case "organization" -> "{\"name\":\"matrix-" + unique + "\"}";
            case "key" -> "{\"reusable\":false,\"expiresInSeconds\":3600}";
            case "group" -> "{\"name\":\"g" + unique + "\",\"appliesTo\":[\"*\"],\"rules\":[{\"protocol\":\"tcp\","
                    + "\"ports\":\"22\",\"peers\":[\"10.0.0.0/8\"]}]}";
            case "groupRules" -> "{\"appliesTo\":[\"*\"],\"rules\":[{\"protocol\":\"udp\",\"ports\":\"53\","
                    + "\"peers\":[\"10.0.0.0/8\"]}]}";
            case "dnsDomain" -> "{\"dnsDomain\":\"matrix.internal\"}";
            case "dnsRecord" -> "{\"name\":\"m" + unique + "\",\"type\":\"A\",\"value\":\"192.0.2.5\"}";
            case "patch" -> "{\"metadata\":{\"site\":\"s" + unique + "\"}}";
            case "register" -> "{\"publicKey\":\"" + publicKey(unique) + "\",\"hostname\":\"h" + unique + "\"}";
            case "report" -> "{\"endpoints\":[{\"address\":\"198.51.100.7:41641\",\"source\":\"stun\"}]}";
            case "relayToken" -> "{\"name\":\"relay-" + unique + "\"}";
            case "enroll" -> "{\"udp\":\"192.0.2.40:3340\",\"tcp\":\"192.0.2.40:3340\"}";
            case "nodeRelay" -> "{\"udp\":\"192.0.2.41:3340\",\"tcp\":\"192.0.2.41:3340\"}";
            case "health" -> "{\"udpClients\":1,\"tcpClients\":2,\"healthy\":true}";
            case "paths" -> "{\"peers\":[]}";
            case "review" -> "{\"approve\":[],\"reject\":[]}";
            case "advertise" -> "{\"routes\":[\"192.168.77.0/24\"],\"healthy\":true}";
            case "approvers" -> "{\"tags\":{\"router\":{\"routes\":[\"10.0.0.0/8\"],\"exitNode\":false}}}";
            // The console's login takes its credential from the body, whatever the Authorization header says.
            case "login" -> "{\"token\":\"" + ADMIN + "\"}";
            case "observations" -> "{\"observations\":[{\"deviceId\":\"" + deviceA1.id() + "\",\"publicKey\":\"x\","
                    + "\"transport\":\"udp\",\"address\":\"198.51.100.9:40000\"}]}";
            default -> throw new IllegalStateException("no body named " + name);
        };
    }

    /** The path with its parameters filled in by the segment before each. */
    private static String fill(String template, Target target) {
        String[] segments = template.split("/");
        for (int i = 1; i < segments.length; i++) {
            if (!segments[i].startsWith("{")) {
                continue;
            }
            segments[i] = switch (segments[i - 1]) {
                case "organizations" -> target.organization().id();
                case "devices" -> target.deviceId();
                case "keys" -> target.keyId();
                case "security-groups" -> target.group();
                case "relays" -> target.relayId();
                case "tokens" -> target.tokenId();
                case "records" -> target.recordId();
                default -> throw new IllegalStateException("no value for " + segments[i] + " in " + template);
            };
        }
        return String.join("/", segments);
    }

    /** A target whose last path parameter is new, for rows that may remove it. */
    private static Target fresh(String template) throws Exception {
        Target target = new Target(orgA, deviceA1.id(), null, groupA, relay1.id(), relay1.tokenId());
        String[] segments = template.split("/");
        String last = segments[segments.length - 2];
        if (!segments[segments.length - 1].startsWith("{")) {
            last = segments[segments.length - 3];
        }
        return switch (last) {
            case "organizations" -> new Target(organization(), null, null, null, null, null);
            case "devices" -> new Target(orgA, device().id(), null, null, null, null);
            case "keys" -> new Target(orgA, null, created("POST", "/api/v1/organizations/" + orgA.id() + "/keys",
                    ADMIN, "{}").get("id").asText(), null, null, null);
            case "security-groups" -> new Target(orgA, null, null, group(), null, null);
            case "relays" -> {
                Relay relay = relay();
                yield new Target(orgA, null, null, null, relay.id(), relay.tokenId());
            }
            case "tokens" -> new Target(orgA, null, null, null, null, created("POST", "/api/v1/relays/tokens", ADMIN,
                    "{}").get("token").asText().split("\\.")[1]);
            case "records" -> new Target(orgA, null, null, null, null, null, created("POST",
                    "/api/v1/organizations/" + orgA.id() + "/dns/records", ADMIN,
                    "{\"name\":\"f" + UNIQUE.incrementAndGet() + "\",\"type\":\"TXT\",\"value\":\"x\"}")
                    .get("id").asText());
            default -> throw new IllegalStateException("nothing fresh to make for " + template);
        };
    }

    private static Org organization() throws Exception {
        JsonNode org = created("POST", "/api/v1/organizations", ADMIN,
                "{\"name\":\"matrix-" + UNIQUE.incrementAndGet() + "\"}");
        return new Org(org.get("id").asText(), org.get("apiToken").asText());
    }

    private static Device device() throws Exception {
        return device(keyA);
    }

    private static Device device(String key) throws Exception {
        int unique = UNIQUE.incrementAndGet();
        JsonNode device = created("POST", "/api/v1/register", key,
                "{\"publicKey\":\"" + publicKey(unique) + "\",\"hostname\":\"d" + unique + "\"}");
        return new Device(device.get("id").asText(), device.get("token").asText());
    }

    private static Relay relay() throws Exception {
        String token = created("POST", "/api/v1/relays/tokens", ADMIN, "{}").get("token").asText();
        JsonNode enrolled = created("POST", "/api/v1/relays/register", token, body("enroll"));
        return new Relay(enrolled.get("relayId").asText(), token.split("\\.")[1], token);
    }

    private static String group() throws Exception {
        return created("POST", "/api/v1/organizations/" + orgA.id() + "/security-groups", ADMIN, body("group"))
                .get("name").asText();
    }

    private static String publicKey(int seed) {
        byte[] key = new byte[32];
        key[0] = (byte) seed;
        key[1] = (byte) (seed >> 8);
        key[31] = 77;
        return Base64.getEncoder().encodeToString(key);
    }

    /** The answer of a request that must succeed. */
    private static JsonNode created(String method, String path, String token, String body) throws Exception {
        Answer answer = send(method, path, token, body);
        if (answer.status() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + ": " + answer.status() + " " + answer.text());
        }
        return JSON.readTree(answer.text());
    }

    record Answer(int status, String text) {}

    /** Sends the request; a stream that opens (200, NDJSON or server-sent events) is closed unread. */
    static Answer send(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<InputStream> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = response.body()) {
            String type = response.headers().firstValue("Content-Type").orElse("");
            boolean stream = type.contains("ndjson") || type.contains("event-stream");
            return new Answer(response.statusCode(), stream ? "(stream)"
                    : new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
