package io.meshwork.node.agent;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.PathReport;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.RegisterRequest;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.api.RenewedCertificate;
import io.meshwork.protocol.tls.CertificatePin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;

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

    /** Control's TLS certificate is not the one {@code --control-pin} names: asking again will not help. */
    public static final class PinMismatchException extends IOException {
        PinMismatchException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private final URI base;
    private final CertificatePin pin;
    private final HttpClient http;

    /** A client of control at {@code base}; an https URL is checked against the JDK's trust store. */
    public ControlClient(URI base) {
        this(base, null);
    }

    /**
     * A client of control at {@code base} that, with a {@code pin}, trusts exactly the certificate it names, by
     * whatever name control is reached (null: the JDK's trust store).
     *
     * @throws IllegalArgumentException when a pin is given for a URL that is not https
     */
    public ControlClient(URI base, CertificatePin pin) {
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.pin = pin;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
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
        this.http = builder.build();
    }

    /** The pin control's certificate must match, or null. */
    public CertificatePin pin() {
        return pin;
    }

    public RegisterResponse register(String registrationKey, RegisterRequest request) throws IOException {
        return post("api/v1/register", registrationKey, request, RegisterResponse.class);
    }

    public void reportEndpoints(String deviceToken, EndpointReport report) throws IOException {
        post("api/v1/devices/self/endpoints", deviceToken, report, Object.class);
    }

    /** A new certificate for the device's key (docs/api.md, "Certificate renewal"). */
    /** {@code POST /api/v1/devices/self/routes}: what this node routes; answers control's view of its routes. */
    public io.meshwork.protocol.api.RouteStatus reportRoutes(String deviceToken,
            io.meshwork.protocol.api.RouteAdvertisement advertisement) throws IOException {
        return post("api/v1/devices/self/routes", deviceToken, advertisement,
                io.meshwork.protocol.api.RouteStatus.class);
    }

    public RenewedCertificate renewCertificate(String deviceToken) throws IOException {
        return post("api/v1/devices/self/certificate", deviceToken, java.util.Map.of(), RenewedCertificate.class);
    }

    /** Tells control how this device reaches each peer now (docs/api.md, "Paths"). */
    public void reportPaths(String deviceToken, PathReport report) throws IOException {
        post("api/v1/devices/self/paths", deviceToken, report, Object.class);
    }

    /**
     * Follows the peer-map stream from {@code sinceRevision} until it ends or fails, handing each event to
     * {@code events} on the calling thread.
     */
    public void followPeers(String deviceToken, long sinceRevision, Consumer<PeerMapEvent> events) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve("api/v1/peers/stream"
                        + (sinceRevision > 0 ? "?since=" + sinceRevision : "")))
                .header("Authorization", "Bearer " + deviceToken)
                // Control compresses the stream only when asked (a snapshot of thousands of peers shrinks severalfold).
                .header("Accept-Encoding", "gzip").GET().build();
        try {
            HttpResponse<InputStream> response = send(request, HttpResponse.BodyHandlers.ofInputStream());
            boolean gzip = response.headers().firstValue("Content-Encoding")
                    .map(value -> value.trim().equalsIgnoreCase("gzip")).orElse(false);
            try (InputStream in = gzip ? new GZIPInputStream(response.body(), 8192) : response.body()) {
                if (response.statusCode() != 200) {
                    String body = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8).strip();
                    String code = null;
                    try {
                        code = JSON.readTree(body).path("code").asText(null);
                    } catch (IOException ignored) {
                        // Not JSON: no code.
                    }
                    throw new ControlException(response.statusCode(), code,
                            "peer stream: HTTP " + response.statusCode() + " " + body);
                }
                readLines(in, line -> {
                    if (!line.isBlank()) {
                        events.accept(JSON.readValue(line, PeerMapEvent.class));
                    }
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** The longest peer-stream line taken. */
    static final int MAX_LINE = 256 << 20;

    /**
     * Hands each line of {@code in} (UTF-8, ended by a newline) to {@code lines} as soon as its newline has been
     * read: a reader would wait for more after a line of a gzip stream, which always says more may follow. A line
     * longer than {@value #MAX_LINE} bytes (a snapshot is about 170 bytes per peer) ends the stream with an error.
     */
    static void readLines(InputStream in, LineHandler lines) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            int from = 0;
            for (int i = 0; i < n; i++) {
                if (buffer[i] == '\n') {
                    line.write(buffer, from, i - from);
                    lines.accept(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                    from = i + 1;
                }
            }
            line.write(buffer, from, n - from);
            if (line.size() > MAX_LINE) {
                throw new IOException("peer stream: a line longer than " + MAX_LINE + " bytes");
            }
        }
        if (line.size() > 0) {
            lines.accept(line.toString(StandardCharsets.UTF_8));
        }
    }

    /** Takes one line of the peer stream; a line it cannot read ends the stream with the error. */
    @FunctionalInterface
    interface LineHandler {
        void accept(String line) throws IOException;
    }

    /** Sends {@code request}; a certificate that does not match the pin is a {@link PinMismatchException}. */
    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        try {
            return http.send(request, body);
        } catch (IOException e) {
            var mismatch = CertificatePin.mismatchIn(e);
            if (mismatch.isPresent()) {
                throw new PinMismatchException(mismatch.get().getMessage(), e);
            }
            throw e;
        }
    }

    private <T> T post(String path, String token, Object body, Class<T> type) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
        try {
            HttpResponse<String> response = send(request, HttpResponse.BodyHandlers.ofString());
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
