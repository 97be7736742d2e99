package io.meshwork.node.agent;

import io.meshwork.protocol.api.RegisterRequest;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.fs.SecretFiles;
import io.meshwork.protocol.wireguard.Key;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's registration, made so that a lost answer costs nothing: the private key is generated once and kept in
 * the state directory ({@value #PENDING_KEY}, 0600, written atomically) before control hears of it, registration
 * is retried with that key on transient failures, and the next start registers with it again. Control answers a
 * repeat of a registration whose answer was lost with the same device and new credentials (docs/api.md), so a
 * retry never meets a 409 or burns a single-use key. The pending key goes once the identity is saved.
 */
final class Registration {

    static final String PENDING_KEY = "pending-key";
    /** Attempts per start: the first and three retries, after 1, 2 and 4 seconds. */
    static final int ATTEMPTS = 4;
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(Registration.class);

    /** Waits between attempts; tests pass one that does not sleep. */
    interface Pause {
        void pause(Duration duration) throws InterruptedException;
    }

    private Registration() {}

    /** Registers as {@code hostname} and saves the identity in {@code stateDirectory}, waiting between attempts. */
    static NodeIdentity register(ControlClient control, String controlUrl, String registrationKey, String hostname,
            Path stateDirectory) throws IOException {
        return register(control, controlUrl, registrationKey, hostname, stateDirectory, wait -> Thread.sleep(wait.toMillis()));
    }

    static NodeIdentity register(ControlClient control, String controlUrl, String registrationKey, String hostname,
            Path stateDirectory, Pause pause) throws IOException {
        Key privateKey = pendingKey(stateDirectory);
        RegisterRequest request = new RegisterRequest(privateKey.publicKey().toBase64(), hostname, Map.of(),
                List.of());
        RegisterResponse registration = null;
        for (int attempt = 1; registration == null; attempt++) {
            try {
                registration = control.register(registrationKey, request);
            } catch (IOException e) {
                if (attempt >= ATTEMPTS || !isTransient(e)) {
                    log.warn("registration failed; the key stays in {} and the next start registers with it again",
                            stateDirectory.resolve(PENDING_KEY));
                    throw e;
                }
                Duration wait = FIRST_BACKOFF.multipliedBy(1L << (attempt - 1));
                log.warn("registration failed ({}); trying again in {} s with the same key", e.getMessage(),
                        wait.toSeconds());
                try {
                    pause.pause(wait);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", interrupted);
                }
            }
        }
        // Hostnames are unique in an organization: control answers the one it registered the device under.
        String registered = registration.hostname() == null ? hostname : registration.hostname();
        if (!registered.equals(hostname)) {
            log.info("another device of the organization is called {}: registered as {}", hostname, registered);
        }
        NodeIdentity identity = new NodeIdentity(controlUrl, registered, privateKey.toBase64(), registration,
                control.pin() == null ? null : control.pin().toString());
        identity.save(stateDirectory);
        Files.deleteIfExists(stateDirectory.resolve(PENDING_KEY));
        return identity;
    }

    /**
     * Connection errors, timeouts, 408, 429 and 5xx: control may have admitted the device, or may yet. A
     * certificate that does not match the pin is not: the pin or the URL is wrong.
     */
    static boolean isTransient(IOException failure) {
        if (failure instanceof ControlClient.PinMismatchException) {
            return false;
        }
        if (failure instanceof ControlClient.ControlException refusal) {
            return refusal.status >= 500 || refusal.status == 408 || refusal.status == 429;
        }
        return true;
    }

    /** The key a registration that did not finish left, else a new one, kept before control hears of it. */
    static Key pendingKey(Path stateDirectory) throws IOException {
        Path file = stateDirectory.resolve(PENDING_KEY);
        if (Files.exists(file)) {
            try {
                return Key.fromBase64(Files.readString(file, StandardCharsets.US_ASCII).strip());
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " does not hold a WireGuard private key; remove it to start afresh", e);
            }
        }
        Key key = Key.generatePrivate();
        SecretFiles.writeAtomically(file, (key.toBase64() + "\n").getBytes(StandardCharsets.US_ASCII));
        return key;
    }
}
