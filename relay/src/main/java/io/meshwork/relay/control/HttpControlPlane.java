package io.meshwork.relay.control;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.protocol.tls.CertificatePin;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link ControlPlane} over control's HTTP API, authenticated with the relay enrollment token as a bearer token:
 *
 * <pre>
 * POST {control}/api/v1/relays/register             {"udp","tcp","stun":[...],"tlsSha256"?} → {"relayId","caCertificatePem","heartbeatSeconds"}
 * PUT  {control}/api/v1/relays/{id}/health          {"udpClients","tcpClients","healthy"}
 * GET  {control}/api/v1/relays/{id}/revocations     → {"serials":["hex", ...]}
 * POST {control}/api/v1/relays/{id}/observations    {"observations":[{"deviceId","publicKey","transport","address"}]}
 * </pre>
 *
 * <p>A node's relay for its organization ({@link #forDevice}) speaks the same with its device token on the device's
 * own routes: {@code POST /api/v1/devices/self/relay} (with its name), {@code PUT .../relay/health},
 * {@code GET .../relay/revocations}, {@code DELETE /api/v1/devices/self/relay} ({@link #withdraw}); it reports no
 * observations.
 */
public final class HttpControlPlane implements ControlPlane {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final URI base;
    private final String token;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    /** The name of a node's relay ({@link #forDevice}); null for a relay enrolled with a relay token. */
    private final String deviceRelayName;

    public HttpControlPlane(URI base, String token) {
        this(base, token, null);
    }

    /**
     * A node's relay for its own organization, listed as {@code name}, authenticated with the node's device token.
     *
     * @throws IllegalArgumentException when a pin is given for a URL that is not https
     */
    public static HttpControlPlane forDevice(URI base, String deviceToken, CertificatePin pin, String name) {
        return new HttpControlPlane(base, deviceToken, pin, name);
    }

    private HttpControlPlane(URI base, String token, CertificatePin pin, String deviceRelayName) {
        this.base = base.getPath().endsWith("/") ? base : URI.create(base + "/");
        this.token = token;
        this.deviceRelayName = deviceRelayName;
        this.http = client(base, pin);
    }

    /**
     * With a {@code pin}, trusts exactly the control certificate it names, by whatever name control is reached;
     * without, an https URL is checked against the JDK's trust store.
     *
     * @throws IllegalArgumentException when a pin is given for a URL that is not https
     */
    public HttpControlPlane(URI base, String token, CertificatePin pin) {
        this(base, token, pin, null);
    }

    private static HttpClient client(URI base, CertificatePin pin) {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(TIMEOUT);
        if (pin != null) {
            if (!"https".equalsIgnoreCase(base.getScheme())) {
                throw new IllegalArgumentException("--control-pin needs an https:// control URL, not " + base);
            }
            try {
                builder.sslContext(pin.controlContext());
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("no TLS in this JDK: " + e.getMessage(), e);
            }
        }
        return builder.build();
    }

    @Override
    public Enrollment register(Advertisement advertisement) throws ControlException {
        JsonNode body;
        if (deviceRelayName != null) {
            Map<String, Object> advertised = new java.util.LinkedHashMap<>();
            advertised.put("name", deviceRelayName);
            advertised.put("udp", advertisement.udp());
            advertised.put("tcp", advertisement.tcp());
            advertised.put("stun", advertisement.stun());
            body = call("POST", "api/v1/devices/self/relay", advertised);
        } else {
            body = call("POST", "api/v1/relays/register", advertisement);
        }
        String relayId = text(body, "relayId");
        String pem = text(body, "caCertificatePem");
        int heartbeat = body.path("heartbeatSeconds").asInt(15);
        return new Enrollment(relayId, pem, Math.max(1, heartbeat));
    }

    @Override
    public void reportHealth(String relayId, Health health) throws ControlException {
        call("PUT", relayPath(relayId) + "/health", health);
    }

    @Override
    public Set<BigInteger> revokedSerials(String relayId) throws ControlException {
        JsonNode body = call("GET", relayPath(relayId) + "/revocations", null);
        Set<BigInteger> serials = new HashSet<>();
        for (JsonNode serial : body.path("serials")) {
            try {
                serials.add(new BigInteger(serial.asText(), 16));
            } catch (NumberFormatException e) {
                throw new ControlException("control sent a serial that is not hex: " + serial.asText());
            }
        }
        return serials;
    }

    @Override
    public void reportObservations(String relayId, List<Observation> observations) throws ControlException {
        if (deviceRelayName != null) {
            return;
        }
        call("POST", "api/v1/relays/" + relayId + "/observations", Map.of("observations", observations));
    }

    /** A node's relay leaves its organization's relay list (node down); nothing for a relay with a token. */
    @Override
    public void withdraw() throws ControlException {
        if (deviceRelayName == null) {
            return;
        }
        call("DELETE", "api/v1/devices/self/relay", null);
    }

    private String relayPath(String relayId) {
        return deviceRelayName != null ? "api/v1/devices/self/relay" : "api/v1/relays/" + relayId;
    }

    private JsonNode call(String method, String path, Object body) throws ControlException {
        URI uri = base.resolve(path);
        try {
            HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body));
            HttpRequest request = HttpRequest.newBuilder(uri)
                    .timeout(TIMEOUT)
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .method(method, publisher)
                    .build();
            HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() / 100 != 2) {
                throw new ControlException(method + " " + uri + ": HTTP " + response.statusCode() + " "
                        + new String(response.body(), StandardCharsets.UTF_8).strip(), response.statusCode());
            }
            return response.body().length == 0 ? json.createObjectNode() : json.readTree(response.body());
        } catch (IOException e) {
            var mismatch = CertificatePin.mismatchIn(e);
            throw new ControlException(method + " " + uri + ": "
                    + (mismatch.isPresent() ? mismatch.get().getMessage() : e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ControlException(method + " " + uri + ": interrupted", e);
        }
    }

    private static String text(JsonNode body, String field) throws ControlException {
        JsonNode value = body.get(field);
        if (value == null || !value.isTextual() || value.asText().isBlank()) {
            throw new ControlException("control's answer lacks " + field);
        }
        return value.asText();
    }
}
