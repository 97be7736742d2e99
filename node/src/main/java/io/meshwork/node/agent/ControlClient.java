package io.meshwork.node.agent;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.RegisterRequest;
import io.meshwork.protocol.api.RegisterResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** The node's side of the control API: registration, endpoint reports and the peer-map stream. */
public final class ControlClient {

    /** Control answered with an error, or could not be reached. */
    public static final class ControlException extends IOException {
        /** The {@code code} control gives a device that is registered but not approved yet. */
        static final String PENDING_APPROVAL = "pending_approval";

        final int status;
        final String code;

        ControlException(int status, String message) {
            this(status, null, message);
        }

        ControlException(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }

        /** The device is registered but waits for an administrator to approve it: ask again later. */
        public boolean isPendingApproval() {
            return PENDING_APPROVAL.equals(code);
        }

        /** 4xx: asking again will not help (bad key, revoked device); a device waiting for approval will be let in. */
        public boolean isPermanent() {
            return status >= 400 && status < 500 && status != 408 && status != 429 && !isPendingApproval();
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public ControlClient(URI base) {
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
    }

    public RegisterResponse register(String registrationKey, RegisterRequest request) throws IOException {
        return post("api/v1/register", registrationKey, request, RegisterResponse.class);
    }

    public void reportEndpoints(String deviceToken, EndpointReport report) throws IOException {
        post("api/v1/devices/self/endpoints", deviceToken, report, Object.class);
    }

    /**
     * Follows the peer-map stream from {@code sinceRevision} until it ends or fails, handing each event to
     * {@code events} on the calling thread.
     */
    public void followPeers(String deviceToken, long sinceRevision, Consumer<PeerMapEvent> events) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve("api/v1/peers/stream"
                        + (sinceRevision > 0 ? "?since=" + sinceRevision : "")))
                .header("Authorization", "Bearer " + deviceToken).GET().build();
        try {
            HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
            if (response.statusCode() != 200) {
                String body = String.join("\n", response.body().toList());
                String code = null;
                try {
                    code = JSON.readTree(body).path("code").asText(null);
                } catch (IOException ignored) {
                    // Not JSON: no code.
                }
                throw new ControlException(response.statusCode(), code,
                        "peer stream: HTTP " + response.statusCode() + " " + body);
            }
            try (Stream<String> lines = response.body()) {
                for (String line : (Iterable<String>) lines::iterator) {
                    if (!line.isBlank()) {
                        events.accept(JSON.readValue(line, PeerMapEvent.class));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private <T> T post(String path, String token, Object body, Class<T> type) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                String error = response.body();
                try {
                    error = JSON.readTree(response.body()).path("error").asText(error);
                } catch (IOException ignored) {
                    // Not JSON: report the body as it is.
                }
                throw new ControlException(response.statusCode(), path + ": " + error);
            }
            return JSON.readValue(response.body(), type);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
