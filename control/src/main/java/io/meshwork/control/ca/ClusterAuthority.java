package io.meshwork.control.ca;

import io.meshwork.control.CborSerializable;
import java.io.IOException;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * The one certificate authority of a control cluster, as a sharded singleton entity: Cluster Sharding gives it a
 * single writer, so when several members start at once and each offers a candidate CA, exactly one candidate is
 * adopted and every member signs device certificates with it. Relays trust that one CA whichever member they
 * enrolled with.
 *
 * <p>Lifecycle: empty → adopted (forever). The first valid {@link Adopt} persists {@link AuthorityAdopted}; every
 * later one, valid or not, is answered with the CA already adopted and persists nothing. A key adopted unencrypted
 * can be stored again encrypted ({@link EncryptKey} → {@link AuthorityKeyEncrypted}): same key, same certificate.
 *
 * <p>The journal therefore holds the CA's private key as PKCS#8 PEM, in the same database as every other control
 * record. With {@code meshwork.control.ca-key-passphrase} set (the same on every member) the key is encrypted
 * with it; without, it is stored unencrypted and the embedded H2 file or the PostgreSQL database (access, backups)
 * must be protected as the CA key itself.
 */
public final class ClusterAuthority extends EventSourcedBehaviorWithEnforcedReplies<ClusterAuthority.Command,
        ClusterAuthority.Event, ClusterAuthority.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "ClusterAuthority");
    /** The one entity id. */
    public static final String ID = "ca";

    /** @param passphrase what candidates' keys are encrypted with (empty: not encrypted), to check them */
    public static void init(ActorSystem<?> system, String passphrase) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, context -> create(passphrase)));
    }

    public static Behavior<Command> create(String passphrase) {
        return new ClusterAuthority(passphrase);
    }

    // ---- messages ---------------------------------------------------------------------------------------

    /** A CA's key (PKCS#8 PEM, encrypted when the members have a passphrase) and self-signed certificate (PEM). */
    public record Material(String privateKeyPem, String certificatePem) implements CborSerializable {

        static Material of(CertificateAuthority ca, String passphrase) {
            return new Material(ca.privateKeyPem(passphrase), ca.certificatePem());
        }

        CertificateAuthority toAuthority(String passphrase) throws IOException {
            return CertificateAuthority.fromPem(privateKeyPem, certificatePem, passphrase);
        }
    }

    public sealed interface Command extends CborSerializable {}

    /**
     * Adopt {@code candidate} unless a CA is adopted already; {@code origin} says where the candidate came from
     * (for the record: "generated" or "data-dir").
     */
    public record Adopt(Material candidate, String origin, long nowMillis, ActorRef<Reply> replyTo) implements Command {}

    /**
     * The cluster's CA ({@code adopted}, null only with an {@code error}); {@code candidateAdopted} says whether
     * it is the candidate of this request.
     */
    public record Reply(Material adopted, boolean candidateAdopted, String error) implements CborSerializable {}

    /**
     * Store the adopted CA's key as {@code encrypted} (the same key, encrypted with the members' passphrase)
     * instead of unencrypted. Refused unless the adopted key is unencrypted, this entity's member has a passphrase,
     * and {@code encrypted} opens with it to the adopted key and certificate. Answered with the CA as stored after.
     */
    public record EncryptKey(Material encrypted, long nowMillis, ActorRef<Reply> replyTo) implements Command {}

    public sealed interface Event extends CborSerializable {}

    public record AuthorityAdopted(Material material, String origin, long atMillis) implements Event {}

    /** The adopted CA's key, unencrypted until now, is stored as {@code material} (encrypted) from now on. */
    public record AuthorityKeyEncrypted(Material material, long atMillis) implements Event {}

    // ---- state ------------------------------------------------------------------------------------------

    /** The adopted CA, where it came from and when; all null/0 until one is adopted. */
    public record State(Material adopted, String origin, long adoptedMillis) implements CborSerializable {

        boolean isEmpty() {
            return adopted == null;
        }
    }

    private final String passphrase;

    private ClusterAuthority(String passphrase) {
        super(PersistenceId.of(ENTITY_KEY.name(), ID),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
        this.passphrase = passphrase;
    }

    @Override
    public State emptyState() {
        return new State(null, null, 0);
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Adopt.class, this::onAdopt)
                .onCommand(EncryptKey.class, this::onEncryptKey)
                .build();
    }

    private ReplyEffect<Event, State> onAdopt(State state, Adopt command) {
        if (!state.isEmpty()) {
            return Effect().reply(command.replyTo(), new Reply(state.adopted(), false, null));
        }
        try {
            if (command.candidate() == null) {
                throw new IOException("no candidate");
            }
            if (!passphrase.isEmpty() && !CertificateAuthority.isEncrypted(command.candidate().privateKeyPem())) {
                throw new IOException("its key is not encrypted, and this member has a ca-key-passphrase");
            }
            // A member with another passphrase than this one is refused here, before its candidate could
            // become a CA the other members cannot open.
            command.candidate().toAuthority(passphrase);
        } catch (IOException e) {
            return Effect().reply(command.replyTo(), new Reply(null, false, "candidate CA refused: " + e.getMessage()));
        }
        return Effect().persist(new AuthorityAdopted(command.candidate(), command.origin(), command.nowMillis()))
                .thenReply(command.replyTo(), next -> new Reply(next.adopted(), true, null));
    }

    private ReplyEffect<Event, State> onEncryptKey(State state, EncryptKey command) {
        try {
            if (state.isEmpty()) {
                throw new IOException("no CA is adopted yet");
            }
            if (CertificateAuthority.isEncrypted(state.adopted().privateKeyPem())) {
                return Effect().reply(command.replyTo(), new Reply(state.adopted(), false, null));
            }
            if (passphrase.isEmpty()) {
                throw new IOException("the member that keeps the CA has no ca-key-passphrase");
            }
            Material offered = command.encrypted();
            if (offered == null || !CertificateAuthority.isEncrypted(offered.privateKeyPem())
                    || !offered.certificatePem().equals(state.adopted().certificatePem())) {
                throw new IOException("not the adopted CA with an encrypted key");
            }
            CertificateAuthority opened = offered.toAuthority(passphrase);
            CertificateAuthority stored = state.adopted().toAuthority("");
            if (!opened.privateKeyPem().equals(stored.privateKeyPem())) {
                throw new IOException("the encrypted key is not the adopted CA's key");
            }
        } catch (IOException e) {
            return Effect().reply(command.replyTo(), new Reply(null, false, "key not re-encrypted: " + e.getMessage()));
        }
        return Effect().persist(new AuthorityKeyEncrypted(command.encrypted(), command.nowMillis()))
                .thenReply(command.replyTo(), next -> new Reply(next.adopted(), false, null));
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(AuthorityAdopted.class, (state, event) ->
                        new State(event.material(), event.origin(), event.atMillis()))
                .onEvent(AuthorityKeyEncrypted.class, (state, event) ->
                        new State(event.material(), state.origin(), state.adoptedMillis()))
                .build();
    }
}
