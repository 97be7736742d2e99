package io.meshwork.control.ca;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a member gets the cluster's CA when it starts: it offers a candidate to {@link ClusterAuthority} and signs
 * with whatever the entity answers. The candidate is the CA an earlier release kept in the data directory when
 * there is one (so a single member upgraded in place keeps its device certificates valid), else a new one.
 */
public final class AuthorityAdoption {

    private static final Logger log = LoggerFactory.getLogger(AuthorityAdoption.class);
    private static final Duration ATTEMPT = Duration.ofSeconds(5);

    private AuthorityAdoption() {}

    /**
     * The cluster's CA key does not open with this member's passphrase, or the cluster refused this member's
     * candidate for the same reason: a configuration to fix (every member needs the same passphrase), not a fault.
     */
    public static final class CaKeyRefusedException extends IOException {
        private static final long serialVersionUID = 1L;

        CaKeyRefusedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The cluster's CA, asking until {@code timeout} passes: the entity answers only once this member has joined
     * the cluster and sharding has a coordinator.
     *
     * @param legacyDirectory where a member of an earlier release kept {@code ca.key} and {@code ca.crt}
     * @param passphrase      what the key is encrypted with in the journal (empty: not encrypted)
     */
    public static CertificateAuthority adopt(ActorSystem<?> system, Path legacyDirectory, String passphrase,
            Duration timeout) throws IOException {
        Optional<CertificateAuthority> legacy = CertificateAuthority.loadFrom(legacyDirectory);
        CertificateAuthority candidate = legacy.orElseGet(CertificateAuthority::generate);
        String origin = legacy.isPresent() ? "data-dir" : "generated";
        ClusterAuthority.Material offered = ClusterAuthority.Material.of(candidate, passphrase);
        EntityRef<ClusterAuthority.Command> entity =
                ClusterSharding.get(system).entityRefFor(ClusterAuthority.ENTITY_KEY, ClusterAuthority.ID);
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            ClusterAuthority.Reply reply;
            try {
                reply = entity.<ClusterAuthority.Reply>ask(replyTo -> new ClusterAuthority.Adopt(offered, origin,
                                System.currentTimeMillis(), replyTo), ATTEMPT)
                        .toCompletableFuture().get(ATTEMPT.toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException notYet) {
                // The cluster is still forming, or the entity is moving between members.
                last = notYet;
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the cluster's CA", e);
            }
            if (reply.adopted() == null) {
                throw new CaKeyRefusedException("the cluster refused this member's CA: " + reply.error()
                        + " (every member needs the same meshwork.control.ca-key-passphrase)", null);
            }
            CertificateAuthority adopted;
            try {
                adopted = reply.adopted().toAuthority(passphrase);
            } catch (IOException e) {
                throw new CaKeyRefusedException("cannot open the cluster's CA key: " + e.getMessage()
                        + " (MESHWORK_CA_KEY_PASSPHRASE; every member needs the passphrase it was stored with)", e);
            }
            if (!passphrase.isEmpty() && !CertificateAuthority.isEncrypted(reply.adopted().privateKeyPem())) {
                encryptStoredKey(entity, adopted, passphrase);
            }
            if (reply.candidateAdopted()) {
                log.info("the cluster adopted this member's {} CA", origin);
            } else if (legacy.isPresent() && !legacy.get().certificate().equals(adopted.certificate())) {
                log.warn("the cluster has another CA than the one in {}: certificates issued with the local one no "
                        + "longer verify at relays; their devices must register again", legacyDirectory);
            }
            return adopted;
        }
        throw new IOException("no cluster CA within " + timeout + " (has this member joined the cluster? Its "
                + "cluster credentials must come from the same cluster CA as the other members')"
                + (last == null ? "" : ": " + last), last);
    }

    /**
     * The journal holds the CA key unencrypted, adopted before a passphrase was set: asks the entity to store it
     * encrypted with {@code passphrase}. Failing that the key stays as it was, and the log says so.
     */
    private static void encryptStoredKey(EntityRef<ClusterAuthority.Command> entity, CertificateAuthority adopted,
            String passphrase) {
        ClusterAuthority.Material encrypted = ClusterAuthority.Material.of(adopted, passphrase);
        try {
            ClusterAuthority.Reply reply = entity.<ClusterAuthority.Reply>ask(replyTo -> new ClusterAuthority.EncryptKey(
                            encrypted, System.currentTimeMillis(), replyTo), ATTEMPT)
                    .toCompletableFuture().get(ATTEMPT.toMillis() + 1000, TimeUnit.MILLISECONDS);
            if (reply.adopted() != null && CertificateAuthority.isEncrypted(reply.adopted().privateKeyPem())) {
                log.info("the cluster's CA key, stored unencrypted before meshwork.control.ca-key-passphrase was "
                        + "set, is now stored encrypted with it");
                return;
            }
            log.warn("the journal holds the cluster's CA key unencrypted (adopted before "
                    + "meshwork.control.ca-key-passphrase was set) and it could not be encrypted now: {}", reply.error());
        } catch (ExecutionException | TimeoutException e) {
            log.warn("the journal holds the cluster's CA key unencrypted (adopted before "
                    + "meshwork.control.ca-key-passphrase was set); encrypting it failed, the next start tries "
                    + "again: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
