package io.meshwork.node.agent;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.fs.SecretFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a node keeps in its state directory so a restart is the same device: control's URL and the pin of its TLS
 * certificate ({@code sha256:<hex>}, null when none was given), its WireGuard private key and what control gave it
 * at registration. Written 0600, atomically, in a 0700 state directory.
 */
public record NodeIdentity(String controlUrl, String hostname, String privateKey, RegisterResponse registration,
        String controlPin) {

    /** An identity without a control pin. */
    public NodeIdentity(String controlUrl, String hostname, String privateKey, RegisterResponse registration) {
        this(controlUrl, hostname, privateKey, registration, null);
    }

    /** This identity with control at {@code url}, trusted by {@code pin} (null: the JDK's trust store). */
    public NodeIdentity withControl(String url, String pin) {
        return new NodeIdentity(url, hostname, privateKey, registration, pin);
    }

    /** This identity with a renewed certificate (PEM) and the CA certificate control answered with it. */
    public NodeIdentity withCertificate(String certificate, String caCertificate) {
        RegisterResponse r = registration;
        return new NodeIdentity(controlUrl, hostname, privateKey, new RegisterResponse(r.id(), r.organizationId(),
                r.token(), r.overlayIps(), certificate, caCertificate == null ? r.caCertificate() : caCertificate,
                r.relays(), r.stunServers(), r.observedAddress(), r.status(), r.overlayPrefixes()), controlPin);
    }

    static final String FILE = "identity.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public static NodeIdentity load(Path stateDirectory) throws IOException {
        Path file = stateDirectory.resolve(FILE);
        return Files.exists(file) ? JSON.readValue(file.toFile(), NodeIdentity.class) : null;
    }

    /** Writes the identity: created 0600 (never readable by others, not even briefly) and moved into place whole. */
    public void save(Path stateDirectory) throws IOException {
        SecretFiles.writeAtomically(stateDirectory.resolve(FILE), JSON.writeValueAsBytes(this));
    }
}
