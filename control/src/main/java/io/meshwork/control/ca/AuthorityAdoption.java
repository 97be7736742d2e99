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
                throw new IOException("the cluster refused this member's CA: " + reply.error());
            }
            CertificateAuthority adopted = reply.adopted().toAuthority(passphrase);
            if (!passphrase.isEmpty() && !CertificateAuthority.isEncrypted(reply.adopted().privateKeyPem())) {
                log.warn("the cluster's CA key was adopted before meshwork.control.ca-key-passphrase was set: the "
                        + "journal holds it unencrypted");
            }
            if (reply.candidateAdopted()) {
                log.info("the cluster adopted this member's {} CA", origin);
            } else if (legacy.isPresent() && !legacy.get().certificate().equals(adopted.certificate())) {
                log.warn("the cluster has another CA than the one in {}: certificates issued with the local one no "
                        + "longer verify at relays; their devices must register again", legacyDirectory);
            }
            return adopted;
        }
        throw new IOException("no cluster CA within " + timeout + " (has this member joined the cluster?)"
                + (last == null ? "" : ": " + last), last);
    }
}
