package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshwork.control.ControlServer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every route that reads a JSON body, with valid bodies mutated (docs/api.md, "Conventions"): truncated, values
 * swapped for other types, nested deeply, huge numbers and strings, unknown and duplicate fields, invalid UTF-8,
 * random bytes. Whatever arrives, the answer comes within {@link #ANSWER_WITHIN}, is never a 5xx, and every 4xx
 * carries a JSON {@code {"error": ...}} body. Each request carries the credential that route accepts, so the body is
 * what is read. The cases come from a fixed seed: a failure names its case and is repeated by running again.
 */
class JsonBodyFuzzTest {

    private static final long SEED = 0x6d657368L;
    /** Random mutations per route, on top of the fixed hostile bodies every route gets. */
    private static final int RANDOM_CASES_PER_ROUTE = 200;
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(20);
    /** {@code meshwork.control.http.max-body-bytes} as reference.conf has it. */
    private static final int MAX_BODY_BYTES = 65_536;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final String ADMIN = ControlApiTest.ADMIN;

    private static ControlServer server;
    private static String base;
    private static final List<Target> TARGETS = new ArrayList<>();

    /** A route with a body, the credential it accepts, and a body it accepts ({@code seed}: varies unique fields). */
    record Target(String method, String path, String token, Function<Integer, String> valid) {
        String route() {
            return method + " " + path;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        server = ControlApiTest.startServer(Files.createTempDirectory("mwc-fuzz"), Map.of(
                "meshwork.control.limits.reports-burst", 1_000_000,
                "meshwork.control.limits.failed-auth-burst", 1_000_000,
                "meshwork.control.paths.min-interval", "0s"));
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
        JsonNode org = ok("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"fuzz\"}");
        String orgId = org.get("id").asText();
        String key = ok("POST", "/api/v1/organizations/" + orgId + "/keys", ADMIN, "{\"reusable\":true}")
                .get("key").asText();
        JsonNode device = ok("POST", "/api/v1/register", key, register(0));
        String relayToken = ok("POST", "/api/v1/relays/tokens", ADMIN, "{\"name\":\"fuzz\"}").get("token").asText();
        String relayId = ok("POST", "/api/v1/relays/register", relayToken, enroll(0)).get("relayId").asText();
        ok("POST", "/api/v1/organizations/" + orgId + "/security-groups", ADMIN, group(0));
        String deviceId = device.get("id").asText();

        TARGETS.add(new Target("POST", "/api/v1/organizations", ADMIN,
                n -> "{\"name\":\"fuzz-" + n + "\",\"ipv4Cidr\":\"10.20.0.0/16\"}"));
        TARGETS.add(new Target("POST", "/api/v1/organizations/" + orgId + "/keys", ADMIN,
                n -> "{\"reusable\":true,\"expiresInSeconds\":" + (3600 + n) + ",\"approvalRequired\":false}"));
        TARGETS.add(new Target("POST", "/api/v1/organizations/" + orgId + "/security-groups", ADMIN,
                JsonBodyFuzzTest::group));
        TARGETS.add(new Target("PUT", "/api/v1/organizations/" + orgId + "/security-groups/g0", ADMIN,
                n -> "{\"name\":\"g0\",\"appliesTo\":[\"*\",\"tag:h" + n + "\"],\"rules\":[{\"protocol\":\"udp\","
                        + "\"ports\":\"53\",\"peers\":[\"10.0.0.0/8\",\"group:g0\"]}]}"));
        TARGETS.add(new Target("PATCH", "/api/v1/organizations/" + orgId, ADMIN,
                n -> "{\"dnsDomain\":\"site-" + n + ".example\"}"));
        TARGETS.add(new Target("POST", "/api/v1/organizations/" + orgId + "/dns/records", ADMIN,
                n -> "{\"name\":\"srv-" + n + "\",\"type\":\"A\",\"value\":\"192.0.2." + (n % 250 + 1)
                        + "\",\"ttl\":60}"));
        TARGETS.add(new Target("PATCH", "/api/v1/devices/" + deviceId, ADMIN,
                n -> "{\"hostname\":\"host-" + n + "\",\"metadata\":{\"site\":\"berlin\",\"rack\":\"" + n + "\"}}"));
        TARGETS.add(new Target("PATCH", "/api/v1/devices/" + deviceId, ADMIN,
                n -> "{\"relayAllowed\":" + (n % 2 == 0) + ",\"tags\":[\"t" + n + "\"]}"));
        // A node relaying for its organization: allowed once, then its enrollment and heartbeat bodies.
        JsonNode relayer = ok("POST", "/api/v1/register", key, register(888_888));
        ok("PATCH", "/api/v1/devices/" + relayer.get("id").asText(), ADMIN, "{\"relayAllowed\":true}");
        String relayerToken = relayer.get("token").asText();
        ok("POST", "/api/v1/devices/self/relay", relayerToken, "{\"udp\":\"192.0.2.60:3340\"}");
        TARGETS.add(new Target("POST", "/api/v1/devices/self/relay", relayerToken,
                n -> "{\"name\":\"edge-" + n + "\",\"region\":\"home\",\"udp\":\"192.0.2.60:" + (1024 + n % 60000)
                        + "\",\"tcp\":\"192.0.2.60:3340\",\"stun\":[\"192.0.2.60:3478\"]}"));
        TARGETS.add(new Target("PUT", "/api/v1/devices/self/relay/health", relayerToken,
                n -> "{\"udpClients\":" + n + ",\"tcpClients\":1,\"healthy\":true}"));
        TARGETS.add(new Target("POST", "/api/v1/register", key, JsonBodyFuzzTest::register));
        TARGETS.add(new Target("POST", "/api/v1/devices/self/routes", device.get("token").asText(),
                n -> "{\"routes\":[\"10." + (n % 200) + ".0.0/16\",\"192.168." + (n % 250) + ".0/24\"],"
                        + "\"exitNode\":" + (n % 2 == 0) + ",\"healthy\":true}"));
        TARGETS.add(new Target("POST", "/api/v1/devices/" + deviceId + "/routes", ADMIN,
                n -> "{\"approve\":[\"10." + (n % 200) + ".0.0/16\"],\"reject\":[]}"));
        TARGETS.add(new Target("PUT", "/api/v1/organizations/" + orgId + "/route-approvers", ADMIN,
                n -> "{\"tags\":{\"t" + (n % 100) + "\":{\"routes\":[\"10.0.0.0/8\",\"fd00:" + (n % 1000)
                        + "::/48\"],\"exitNode\":" + (n % 2 == 0) + "}}}"));
        TARGETS.add(new Target("POST", "/api/v1/devices/self/endpoints", device.get("token").asText(),
                n -> "{\"endpoints\":[{\"address\":\"198.51.100.7:" + (1024 + n % 60000) + "\",\"source\":\"stun\"},"
                        + "{\"address\":\"192.168.1.5:41641\",\"source\":\"local\"}],\"nat\":{\"udp\":true,"
                        + "\"mapping\":\"endpoint-independent\",\"publicEndpoints\":[\"198.51.100.7:41641\"],"
                        + "\"servers\":[{\"server\":\"203.0.113.1:3478\",\"answered\":true,\"rttMillis\":12.5}],"
                        + "\"elapsedMillis\":300},\"homeRelay\":\"relay-" + (n % 3) + "\"}"));
        String peerId = ok("POST", "/api/v1/register", key, register(999_999)).get("id").asText();
        TARGETS.add(new Target("POST", "/api/v1/devices/self/paths", device.get("token").asText(),
                n -> "{\"peers\":[{\"peerId\":\"" + peerId + "\",\"path\":\"relay\",\"latencyMillis\":" + n % 1000
                        + ".5,\"relay\":\"relay1\",\"reason\":\"relayed: r" + n + "\"}]}"));
        TARGETS.add(new Target("POST", "/api/v1/ui/session", ADMIN, n -> "{\"token\":\"" + ADMIN + "\"}"));
        TARGETS.add(new Target("POST", "/api/v1/relays/tokens", ADMIN,
                n -> "{\"name\":\"relay-" + n + "\",\"region\":\"eu-west\"}"));
        TARGETS.add(new Target("POST", "/api/v1/relays/register", relayToken, JsonBodyFuzzTest::enroll));
        TARGETS.add(new Target("PUT", "/api/v1/relays/" + relayId + "/health", relayToken,
                n -> "{\"udpClients\":" + n + ",\"tcpClients\":2,\"healthy\":true}"));
        TARGETS.add(new Target("POST", "/api/v1/relays/" + relayId + "/observations", relayToken,
                n -> "{\"observations\":[{\"deviceId\":\"" + deviceId + "\",\"publicKey\":\"k\",\"transport\":\"udp\","
                        + "\"address\":\"198.51.100.9:" + (1024 + n % 60000) + "\"}]}"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String register(int n) {
        byte[] key = new byte[32];
        key[0] = (byte) n;
        key[1] = (byte) (n >> 8);
        key[2] = (byte) (n >> 16);
        key[31] = 99;
        return "{\"publicKey\":\"" + Base64.getEncoder().encodeToString(key) + "\",\"hostname\":\"d" + n
                + "\",\"metadata\":{\"os\":\"linux\"},\"endpoints\":[{\"address\":\"192.168.1.9:41641\","
                + "\"source\":\"local\"}]}";
    }

    private static String enroll(int n) {
        return "{\"udp\":\"192.0.2.50:3340\",\"tcp\":\"192.0.2.50:3340\",\"stun\":[\"192.0.2.50:3478\"]}";
    }

    private static String group(int n) {
        return "{\"name\":\"g" + n + "\",\"appliesTo\":[\"*\"],\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"22\","
                + "\"peers\":[\"10.0.0.0/8\"]}]}";
    }

    @Test
    void validBodiesAreAcceptedSoTheMutationsReachTheReading() throws Exception {
        for (Target target : TARGETS) {
            Answer answer = send(target, target.valid().apply(1_000_000).getBytes(StandardCharsets.UTF_8));
            assertEquals(2, answer.status() / 100, target.route() + ": " + answer.text());
        }
    }

    @Test
    void bodiesThatAreNoPlainJsonObjectOfTheRouteAreRefusedSayingWhy() throws Exception {
        Target organizations = TARGETS.get(0);
        Map<String, byte[]> refused = new java.util.LinkedHashMap<>();
        refused.put("nesting", ("{\"name\":\"a\",\"x\":" + "[".repeat(60_000)).getBytes(StandardCharsets.UTF_8));
        refused.put("number", "{\"name\":\"a\",\"x\":1}".replace("1}", "9".repeat(100) + "}")
                .getBytes(StandardCharsets.UTF_8));
        refused.put("duplicate", "{\"name\":\"a\",\"name\":\"b\"}".getBytes(StandardCharsets.UTF_8));
        refused.put("UTF-8", new byte[] {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0xED, (byte) 0xA0,
            (byte) 0x80, '"', '}'});
        refused.put("surrogate", "{\"name\":\"\\ud800x\"}".getBytes(StandardCharsets.UTF_8));
        refused.put("trailing", "{\"name\":\"a\"}{}".getBytes(StandardCharsets.UTF_8));
        refused.put("range", "{\"name\":\"a\",\"ipv4Cidr\":1e999999}".getBytes(StandardCharsets.UTF_8));
        for (Map.Entry<String, byte[]> body : refused.entrySet()) {
            Answer answer = send(organizations, body.getValue());
            assertEquals(400, answer.status(), body.getKey() + ": " + answer.text());
            assertTrue(isJsonError(answer.text()), body.getKey() + ": " + answer.text());
        }
        Answer tooLarge = send(organizations, ("{\"name\":\"" + "a".repeat(100_000) + "\"}")
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(413, tooLarge.status(), tooLarge.text());
        assertTrue(isJsonError(tooLarge.text()), tooLarge.text());
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void mutatedBodiesAreAnsweredInTimeNeverWith5xxAndEvery4xxWithAJsonError() throws Exception {
        Random random = new Random(SEED);
        List<String> wrong = new ArrayList<>();
        int cases = 0;
        int seed = 1;
        for (Target target : TARGETS) {
            List<Case> bodies = new ArrayList<>(hostile(target.valid().apply(seed++)));
            for (int i = 0; i < RANDOM_CASES_PER_ROUTE; i++) {
                bodies.add(mutate(target.valid().apply(seed++), random));
            }
            for (Case body : bodies) {
                cases++;
                String problem = check(target, body);
                if (problem != null) {
                    wrong.add(problem);
                }
            }
        }
        assertTrue(cases > 2_000, cases + " cases");
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + cases + " cases answered wrongly:\n"
                + String.join("\n", wrong.subList(0, Math.min(wrong.size(), 40))));
    }

    /** Why the answer to {@code body} on {@code target} is wrong, or null when it is right. */
    private static String check(Target target, Case body) throws Exception {
        Answer answer;
        try {
            answer = send(target, body.bytes());
        } catch (HttpTimeoutException e) {
            return target.route() + " " + body.name() + ": no answer within " + ANSWER_WITHIN;
        } catch (IOException e) {
            return target.route() + " " + body.name() + ": the connection failed: " + e;
        }
        if (answer.status() >= 500) {
            return target.route() + " " + body.name() + ": " + answer.status() + " " + abbreviated(answer.text());
        }
        if (answer.status() >= 400 && !isJsonError(answer.text())) {
            return target.route() + " " + body.name() + ": " + answer.status() + " without a JSON error: "
                    + abbreviated(answer.text());
        }
        return null;
    }

    record Case(String name, byte[] bytes) {
        static Case of(String name, String text) {
            return new Case(name, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The fixed hostile bodies, each with the route's valid body where it needs one. */
    static List<Case> hostile(String valid) {
        List<Case> cases = new ArrayList<>();
        cases.add(Case.of("empty", ""));
        cases.add(Case.of("null", "null"));
        cases.add(Case.of("array", "[]"));
        cases.add(Case.of("string", "\"x\""));
        cases.add(Case.of("number", "1e999999"));
        cases.add(Case.of("100k [", "[".repeat(100_000)));
        cases.add(Case.of("60k [", "[".repeat(60_000)));
        cases.add(Case.of("60k [] closed", "[".repeat(30_000) + "]".repeat(30_000)));
        cases.add(Case.of("deep objects", "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000)));
        cases.add(Case.of("deep in a field", insert(valid, "\"x\":" + "[".repeat(5_000) + "]".repeat(5_000))));
        for (String number : List.of("1e999999", "-1e999999", "1e-999999", "123456789012345678901234567890",
                "-123456789012345678901234567890", "9".repeat(5_000), "0." + "1".repeat(5_000), "NaN", "Infinity",
                "-0", "1.5", "2147483648", "9223372036854775808")) {
            cases.add(Case.of("every value " + abbreviated(number), everyValue(valid, number)));
            cases.add(Case.of("unknown field " + abbreviated(number), insert(valid, "\"zz\":" + number)));
        }
        cases.add(Case.of("60k string everywhere", everyValue(valid, "\"" + "a".repeat(60_000) + "\"")));
        cases.add(Case.of("200k string", insert(valid, "\"zz\":\"" + "a".repeat(200_000) + "\"")));
        cases.add(Case.of("null everywhere", everyValue(valid, "null")));
        cases.add(Case.of("nulls in every list", everyArrayItem(valid, "null")));
        cases.add(Case.of("objects in every list", everyArrayItem(valid, "{}")));
        cases.add(Case.of("true everywhere", everyValue(valid, "true")));
        cases.add(Case.of("object everywhere", everyValue(valid, "{}")));
        cases.add(Case.of("array everywhere", everyValue(valid, "[1,\"a\",null]")));
        cases.add(Case.of("unknown field", insert(valid, "\"unknownField\":1")));
        cases.add(Case.of("duplicate key, same type", duplicateFirstKey(valid,
                firstValue(valid))));
        cases.add(Case.of("duplicate key, other type", duplicateFirstKey(valid, "{\"a\":[1]}")));
        cases.add(Case.of("control characters", everyValue(valid, "\"\\u0000\\u001f\\n\"")));
        cases.add(Case.of("lone surrogate", everyValue(valid, "\"\\ud800\"")));
        byte[] utf8 = valid.getBytes(StandardCharsets.UTF_8);
        for (byte[] invalid : List.of(new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0xFF},
                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80},
                new byte[] {(byte) 0xC0, (byte) 0xAF})) {
            cases.add(new Case("invalid UTF-8 in a string", spliceIntoFirstString(utf8, invalid)));
        }
        cases.add(new Case("UTF-16", valid.getBytes(StandardCharsets.UTF_16)));
        cases.add(new Case("BOM", concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, utf8)));
        cases.add(Case.of("trailing garbage", valid + "}{]"));
        cases.add(Case.of("two documents", valid + valid));
        cases.add(Case.of("comments", "/* x */" + valid));
        cases.add(Case.of("single quotes", valid.replace('"', '\'')));
        return cases;
    }

    /** One random mutation of {@code valid}. */
    static Case mutate(String valid, Random random) {
        byte[] bytes = valid.getBytes(StandardCharsets.UTF_8);
        int kind = random.nextInt(8);
        return switch (kind) {
            case 0 -> {
                int cut = random.nextInt(bytes.length);
                yield new Case("truncated at " + cut, java.util.Arrays.copyOf(bytes, cut));
            }
            case 1 -> {
                byte[] flipped = bytes.clone();
                int flips = 1 + random.nextInt(4);
                for (int i = 0; i < flips; i++) {
                    flipped[random.nextInt(flipped.length)] = (byte) random.nextInt(256);
                }
                yield new Case("bytes changed", flipped);
            }
            case 2 -> {
                byte[] spliced = bytes.clone();
                int at = random.nextInt(spliced.length);
                String inserted = List.of("[", "{", "\"", ",", ":", "]", "}", "\\", "\\u", "-", "e", "0").get(
                        random.nextInt(12));
                yield Case.of("inserted " + inserted, valid.substring(0, Math.min(at, valid.length())) + inserted
                        + valid.substring(Math.min(at, valid.length())));
            }
            default -> {
                JsonNode tree;
                try {
                    tree = JSON.readTree(valid);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                List<JsonNode> containers = new ArrayList<>();
                collect(tree, containers);
                JsonNode container = containers.get(random.nextInt(containers.size()));
                JsonNode replacement = randomValue(random, 0);
                String name;
                if (container instanceof ObjectNode object && object.size() > 0 && random.nextInt(4) > 0) {
                    List<String> names = new ArrayList<>();
                    object.fieldNames().forEachRemaining(names::add);
                    String field = names.get(random.nextInt(names.size()));
                    object.set(field, replacement);
                    name = "field " + field + " = " + abbreviated(replacement.toString());
                } else if (container instanceof ObjectNode object) {
                    object.set("f" + random.nextInt(100), replacement);
                    name = "unknown field = " + abbreviated(replacement.toString());
                } else {
                    ArrayNode array = (ArrayNode) container;
                    if (array.isEmpty() || random.nextBoolean()) {
                        array.add(replacement);
                    } else {
                        array.set(random.nextInt(array.size()), replacement);
                    }
                    name = "list item " + abbreviated(replacement.toString());
                }
                yield Case.of("type swap: " + name, tree.toString());
            }
        };
    }

    private static void collect(JsonNode node, List<JsonNode> containers) {
        if (node.isContainerNode()) {
            containers.add(node);
            for (Iterator<JsonNode> children = node.elements(); children.hasNext(); ) {
                collect(children.next(), containers);
            }
        }
    }

    private static JsonNode randomValue(Random random, int depth) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        return switch (random.nextInt(depth > 2 ? 7 : 9)) {
            case 0 -> nodes.nullNode();
            case 1 -> nodes.booleanNode(random.nextBoolean());
            case 2 -> nodes.numberNode(random.nextLong());
            case 3 -> nodes.numberNode(new java.math.BigInteger(200, random));
            case 4 -> nodes.numberNode(random.nextDouble() * Math.pow(10, random.nextInt(300)));
            case 5 -> nodes.textNode(List.of("", "*", "10.0.0.0/8", "group:g0", "198.51.100.7:1", "x".repeat(300),
                    "\u0000", "o" + "0".repeat(12), "tcp", "local", "-1").get(random.nextInt(11)));
            case 6 -> nodes.numberNode(random.nextInt(3) - 1);
            case 7 -> {
                ArrayNode array = nodes.arrayNode();
                for (int i = random.nextInt(4); i > 0; i--) {
                    array.add(randomValue(random, depth + 1));
                }
                yield array;
            }
            default -> {
                ObjectNode object = nodes.objectNode();
                for (int i = random.nextInt(4); i > 0; i--) {
                    object.set(List.of("name", "rules", "peers", "address", "source", "udp", "x").get(
                            random.nextInt(7)), randomValue(random, depth + 1));
                }
                yield object;
            }
        };
    }

    /** {@code valid} with {@code field} (a {@code "name":value} pair) first in its top object. */
    private static String insert(String valid, String field) {
        return "{" + field + (valid.equals("{}") ? "" : "," + valid.substring(1));
    }

    /** {@code valid} with every scalar value replaced by {@code value}. */
    private static String everyValue(String valid, String value) {
        try {
            JsonNode tree = JSON.readTree(valid);
            String marker = "\u0001MARK\u0001";
            replaceScalars(tree, marker);
            return tree.toString().replace("\"" + marker + "\"", value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void replaceScalars(JsonNode node, String marker) {
        if (node instanceof ObjectNode object) {
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                if (object.get(name).isContainerNode()) {
                    replaceScalars(object.get(name), marker);
                } else {
                    object.put(name, marker);
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                if (array.get(i).isContainerNode()) {
                    replaceScalars(array.get(i), marker);
                } else {
                    array.set(i, JsonNodeFactory.instance.textNode(marker));
                }
            }
        }
    }

    /** {@code valid} with {@code item} added to every list. */
    private static String everyArrayItem(String valid, String item) {
        try {
            JsonNode tree = JSON.readTree(valid);
            addToArrays(tree, JSON.readTree(item));
            return tree.toString();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void addToArrays(JsonNode node, JsonNode item) {
        List<JsonNode> children = new ArrayList<>();
        node.elements().forEachRemaining(children::add);
        for (JsonNode child : children) {
            addToArrays(child, item);
        }
        if (node instanceof ArrayNode array) {
            array.add(item.deepCopy());
        }
    }

    private static String firstValue(String valid) {
        try {
            return JSON.readTree(valid).elements().next().toString();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code valid} with its first field given first with {@code value}: the name twice in one object. */
    private static String duplicateFirstKey(String valid, String value) {
        try {
            String first = JSON.readTree(valid).fieldNames().next();
            return insert(valid, JSON.writeValueAsString(first) + ":" + value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] spliceIntoFirstString(byte[] valid, byte[] inserted) {
        int at = -1;
        int quotes = 0;
        for (int i = 0; i < valid.length; i++) {
            if (valid[i] == '"' && ++quotes == 3) {
                at = i + 1;
                break;
            }
        }
        if (at < 0) {
            at = valid.length / 2;
        }
        byte[] spliced = new byte[valid.length + inserted.length];
        System.arraycopy(valid, 0, spliced, 0, at);
        System.arraycopy(inserted, 0, spliced, at, inserted.length);
        System.arraycopy(valid, at, spliced, at + inserted.length, valid.length - at);
        return spliced;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] joined = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }

    private static String abbreviated(String text) {
        String oneLine = text.replace('\n', ' ');
        return oneLine.length() <= 120 ? oneLine : oneLine.substring(0, 120) + "…(" + oneLine.length() + ")";
    }

    private static boolean isJsonError(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            return node != null && node.path("error").isTextual();
        } catch (IOException e) {
            return false;
        }
    }

    record Answer(int status, String text) {}

    /**
     * Sends {@code body}; one over the size limit goes by {@link #sendOverTheLimit}. The HTTP client of JDK 17 does
     * not: with {@code Expect: 100-continue}, a final answer other than 100 left it waiting forever, past its request
     * timeout (JDK-8286171, fixed in JDK 20), and without it a client still sending the body may lose that answer
     * to the reset when control closes the connection.
     */
    private static Answer send(Target target, byte[] body) throws Exception {
        if (body.length > MAX_BODY_BYTES) {
            return sendOverTheLimit(target, body);
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + target.path())).timeout(ANSWER_WITHIN)
                .header("Authorization", "Bearer " + target.token()).header("Content-Type", "application/json")
                .method(target.method(), HttpRequest.BodyPublishers.ofByteArray(body)).build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), response.body());
    }

    /**
     * Sends a body over the size limit on a connection of its own, as HTTP/1.1 with {@code Expect: 100-continue}:
     * control must answer 413 at once, from the declared length, and never 100.
     */
    private static Answer sendOverTheLimit(Target target, byte[] body) throws IOException {
        URI uri = URI.create(base);
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
            socket.setSoTimeout((int) ANSWER_WITHIN.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write((target.method() + " " + target.path() + " HTTP/1.1\r\n"
                    + "Host: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
                    + "Authorization: Bearer " + target.token() + "\r\n"
                    + "Content-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n"
                    + "Expect: 100-continue\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            Map<String, String> head = head(in);
            if (head.get(":status").equals("100")) {
                // Control reads the declared length first: a 100 here invites a body it will refuse.
                throw new IOException("answered 100 Continue to a body declared over the limit");
            }
            byte[] content = head.containsKey("content-length")
                    ? in.readNBytes(Integer.parseInt(head.get("content-length"))) : in.readAllBytes();
            return new Answer(Integer.parseInt(head.get(":status")), new String(content, StandardCharsets.UTF_8));
        } catch (SocketTimeoutException e) {
            throw new HttpTimeoutException("no answer within " + ANSWER_WITHIN);
        }
    }

    /** The status line and header fields of an HTTP/1.1 answer: {@code :status}, then the fields in lower case. */
    private static Map<String, String> head(InputStream in) throws IOException {
        Map<String, String> head = new java.util.HashMap<>();
        String status = line(in);
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP/1.1 answer: " + abbreviated(status));
        }
        head.put(":status", parts[1]);
        for (String field = line(in); !field.isEmpty(); field = line(in)) {
            int colon = field.indexOf(':');
            if (colon > 0) {
                head.put(field.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
                        field.substring(colon + 1).trim());
            }
        }
        return head;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("the connection closed in the answer's head");
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    private static JsonNode ok(String method, String path, String token, String body) throws Exception {
        Answer answer = send(new Target(method, path, token, n -> body), body.getBytes(StandardCharsets.UTF_8));
        if (answer.status() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + ": " + answer.status() + " " + answer.text());
        }
        return JSON.readTree(answer.text());
    }
}
