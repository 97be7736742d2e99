package io.meshwork.node.agent;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.meshwork.protocol.api.RegisterResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * What a node keeps in its state directory so a restart is the same device: its WireGuard private key and what
 * control gave it at registration. Written 0600, atomically.
 */
public record NodeIdentity(String controlUrl, String hostname, String privateKey, RegisterResponse registration) {

    static final String FILE = "identity.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public static NodeIdentity load(Path stateDirectory) throws IOException {
        Path file = stateDirectory.resolve(FILE);
        return Files.exists(file) ? JSON.readValue(file.toFile(), NodeIdentity.class) : null;
    }

    public void save(Path stateDirectory) throws IOException {
        Files.createDirectories(stateDirectory);
        Path temporary = stateDirectory.resolve(FILE + ".new");
        Files.write(temporary, JSON.writeValueAsBytes(this));
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
        Files.move(temporary, stateDirectory.resolve(FILE), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }
}
