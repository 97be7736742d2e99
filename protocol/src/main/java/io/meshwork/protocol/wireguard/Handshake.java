package io.meshwork.protocol.wireguard;

import java.time.Instant;
import javax.crypto.AEADBadTagException;

/**
 * The Noise_IKpsk2 handshake with one peer (WireGuard §5.4.2–§5.4.5), from either side. Not thread-safe: the
 * owning peer serialises calls. Messages are produced without MACs; {@link Macs} adds and checks them.
 *
 * <p>Initiator: {@link #createInitiation} then {@link #consumeResponse}. Responder: the device decrypts an
 * initiation with {@link #consumeInitiation} (which reveals who sent it), hands it to that peer's handshake
 * with {@link #acceptInitiation}, then calls {@link #createResponse}. Each completed side yields a
 * {@link Keypair}.
 */
public final class Handshake {

    private enum State { NONE, INITIATION_CREATED, INITIATION_CONSUMED }

    private final java.util.function.Supplier<Key> ephemeralKeys;
    private final LocalIdentity local;
    private final Key remoteStatic;
    private final byte[] precomputedStaticStatic;
    private final byte[] remoteMac1Key;
    private final byte[] initiatorHashStart;
    private Key presharedKey = Key.zero();

    private State state = State.NONE;
    private byte[] hash;
    private byte[] chainingKey;
    private byte[] localEphemeral;
    private byte[] remoteEphemeral;
    private int localIndex;
    private int remoteIndex;
    private byte[] lastTimestamp;

    /**
     * @throws WireGuardException when {@code remoteStatic} is a low-order point
     */
    public Handshake(LocalIdentity local, Key remoteStatic) throws WireGuardException {
        this(local, remoteStatic, Key::generatePrivate);
    }

    /** With a given source of ephemeral keys: deterministic handshakes for known-answer tests. */
    Handshake(LocalIdentity local, Key remoteStatic, java.util.function.Supplier<Key> ephemeralKeys)
            throws WireGuardException {
        this.ephemeralKeys = ephemeralKeys;
        this.local = local;
        this.remoteStatic = remoteStatic;
        this.precomputedStaticStatic = Noise.dh(local.privateKey().raw(), remoteStatic.raw());
        this.remoteMac1Key = Blake2s.hash(Noise.LABEL_MAC1, remoteStatic.raw());
        this.initiatorHashStart = Blake2s.hash(Noise.INITIAL_HASH, remoteStatic.raw());
    }

    public Key remoteStatic() {
        return remoteStatic;
    }

    public void setPresharedKey(Key presharedKey) {
        this.presharedKey = presharedKey == null ? Key.zero() : presharedKey;
    }

    public Key presharedKey() {
        return presharedKey;
    }

    /** The key peers' mac1 over messages to this remote is computed with. */
    byte[] remoteMac1Key() {
        return remoteMac1Key;
    }

    /** WireGuard §5.4.2: a fresh initiation with sender index {@code localIndex}, MACs left zero. */
    public byte[] createInitiation(int localIndex, Instant now) throws WireGuardException {
        byte[] message = new byte[Messages.INITIATION_SIZE];
        message[0] = Messages.TYPE_INITIATION;
        Messages.writeIndex(message, Messages.INITIATION_SENDER, localIndex);

        byte[] c = Noise.INITIAL_CHAINING_KEY;
        byte[] h = initiatorHashStart;
        byte[] ephemeralPrivate = ephemeralKeys.get().raw();
        byte[] ephemeralPublic = Key.of(ephemeralPrivate).publicKey().raw();
        System.arraycopy(ephemeralPublic, 0, message, Messages.INITIATION_EPHEMERAL, 32);
        c = Blake2s.kdf(1, c, ephemeralPublic)[0];
        h = Blake2s.hash(h, ephemeralPublic);

        byte[][] ck = Blake2s.kdf(2, c, Noise.dh(ephemeralPrivate, remoteStatic.raw()));
        c = ck[0];
        byte[] encryptedStatic = ChaChaPoly.seal(ck[1], 0, local.publicKey().raw(), h);
        System.arraycopy(encryptedStatic, 0, message, Messages.INITIATION_STATIC, encryptedStatic.length);
        h = Blake2s.hash(h, encryptedStatic);

        ck = Blake2s.kdf(2, c, precomputedStaticStatic);
        c = ck[0];
        byte[] encryptedTimestamp = ChaChaPoly.seal(ck[1], 0, Tai64n.of(now), h);
        System.arraycopy(encryptedTimestamp, 0, message, Messages.INITIATION_TIMESTAMP, encryptedTimestamp.length);
        h = Blake2s.hash(h, encryptedTimestamp);

        this.chainingKey = c;
        this.hash = h;
        this.localEphemeral = ephemeralPrivate;
        this.localIndex = localIndex;
        this.state = State.INITIATION_CREATED;
        return message;
    }

    /** What decrypting an initiation revealed, before the sender's peer is known. */
    public static final class ConsumedInitiation {
        private final Key initiatorStatic;
        private final int senderIndex;
        private final byte[] timestamp;
        private final byte[] hash;
        private final byte[] chainingKey;
        private final byte[] ephemeral;

        private ConsumedInitiation(Key initiatorStatic, int senderIndex, byte[] timestamp, byte[] hash,
                byte[] chainingKey, byte[] ephemeral) {
            this.initiatorStatic = initiatorStatic;
            this.senderIndex = senderIndex;
            this.timestamp = timestamp;
            this.hash = hash;
            this.chainingKey = chainingKey;
            this.ephemeral = ephemeral;
        }

        /** The static public key of whoever sent it: look the peer up by it. */
        public Key initiatorStatic() {
            return initiatorStatic;
        }

        public int senderIndex() {
            return senderIndex;
        }
    }

    /**
     * WireGuard §5.4.2 from the responder's side: decrypts the initiator's static key and timestamp. The MACs
     * must have been checked before.
     */
    public static ConsumedInitiation consumeInitiation(LocalIdentity local, byte[] message) throws WireGuardException {
        if (message.length != Messages.INITIATION_SIZE || message[0] != Messages.TYPE_INITIATION) {
            throw new WireGuardException(WireGuardException.Reason.WRONG_SIZE, "not an initiation");
        }
        byte[] c = Noise.INITIAL_CHAINING_KEY;
        byte[] h = local.responderHash;
        byte[] ephemeral = slice(message, Messages.INITIATION_EPHEMERAL, 32);
        c = Blake2s.kdf(1, c, ephemeral)[0];
        h = Blake2s.hash(h, ephemeral);

        byte[][] ck = Blake2s.kdf(2, c, Noise.dh(local.privateKey().raw(), ephemeral));
        c = ck[0];
        byte[] encryptedStatic = slice(message, Messages.INITIATION_STATIC, 32 + ChaChaPoly.TAG_LENGTH);
        byte[] initiatorStatic = open(ck[1], encryptedStatic, h, "initiator static key");
        h = Blake2s.hash(h, encryptedStatic);

        ck = Blake2s.kdf(2, c, Noise.dh(local.privateKey().raw(), initiatorStatic));
        c = ck[0];
        byte[] encryptedTimestamp = slice(message, Messages.INITIATION_TIMESTAMP, Tai64n.LENGTH + ChaChaPoly.TAG_LENGTH);
        byte[] timestamp = open(ck[1], encryptedTimestamp, h, "timestamp");
        h = Blake2s.hash(h, encryptedTimestamp);
        return new ConsumedInitiation(Key.of(initiatorStatic), Messages.readIndex(message, Messages.INITIATION_SENDER),
                timestamp, h, c, ephemeral);
    }

    /**
     * Takes a consumed initiation from this handshake's peer as the current one.
     *
     * @throws WireGuardException when its timestamp is not newer than the last accepted (a replay, §5.1)
     */
    public void acceptInitiation(ConsumedInitiation initiation) throws WireGuardException {
        if (!initiation.initiatorStatic.equals(remoteStatic)) {
            throw new WireGuardException(WireGuardException.Reason.UNKNOWN_PEER, "initiation from another peer");
        }
        if (!Tai64n.isAfter(initiation.timestamp, lastTimestamp)) {
            throw new WireGuardException(WireGuardException.Reason.REPLAYED_TIMESTAMP,
                    "initiation timestamp is not newer than the last one");
        }
        lastTimestamp = initiation.timestamp;
        hash = initiation.hash;
        chainingKey = initiation.chainingKey;
        remoteEphemeral = initiation.ephemeral;
        remoteIndex = initiation.senderIndex;
        state = State.INITIATION_CONSUMED;
    }

    /** A response and the responder's keypair (WireGuard §5.4.3, §5.4.5), MACs left zero. */
    public record Response(byte[] message, Keypair keypair) {}

    public Response createResponse(int localIndex, long nowNanos) throws WireGuardException {
        if (state != State.INITIATION_CONSUMED) {
            throw new WireGuardException(WireGuardException.Reason.UNEXPECTED_STATE, "no initiation to respond to");
        }
        byte[] message = new byte[Messages.RESPONSE_SIZE];
        message[0] = Messages.TYPE_RESPONSE;
        Messages.writeIndex(message, Messages.RESPONSE_SENDER, localIndex);
        Messages.writeIndex(message, Messages.RESPONSE_RECEIVER, remoteIndex);

        byte[] c = chainingKey;
        byte[] h = hash;
        byte[] ephemeralPrivate = ephemeralKeys.get().raw();
        byte[] ephemeralPublic = Key.of(ephemeralPrivate).publicKey().raw();
        System.arraycopy(ephemeralPublic, 0, message, Messages.RESPONSE_EPHEMERAL, 32);
        c = Blake2s.kdf(1, c, ephemeralPublic)[0];
        h = Blake2s.hash(h, ephemeralPublic);
        c = Blake2s.kdf(1, c, Noise.dh(ephemeralPrivate, remoteEphemeral))[0];
        c = Blake2s.kdf(1, c, Noise.dh(ephemeralPrivate, remoteStatic.raw()))[0];
        byte[][] ctk = Blake2s.kdf(3, c, presharedKey.raw());
        c = ctk[0];
        h = Blake2s.hash(h, ctk[1]);
        byte[] encryptedNothing = ChaChaPoly.seal(ctk[2], 0, new byte[0], h);
        System.arraycopy(encryptedNothing, 0, message, Messages.RESPONSE_EMPTY, encryptedNothing.length);

        byte[][] keys = Blake2s.kdf(2, c, new byte[0]);
        Keypair keypair = new Keypair(keys[1], keys[0], localIndex, remoteIndex, false, nowNanos);
        clear();
        return new Response(message, keypair);
    }

    /** WireGuard §5.4.3 from the initiator's side: completes the handshake. MACs must have been checked. */
    public Keypair consumeResponse(byte[] message, long nowNanos) throws WireGuardException {
        if (state != State.INITIATION_CREATED) {
            throw new WireGuardException(WireGuardException.Reason.UNEXPECTED_STATE, "no initiation outstanding");
        }
        if (Messages.readIndex(message, Messages.RESPONSE_RECEIVER) != localIndex) {
            throw new WireGuardException(WireGuardException.Reason.UNKNOWN_INDEX, "response for another initiation");
        }
        byte[] c = chainingKey;
        byte[] h = hash;
        byte[] ephemeral = slice(message, Messages.RESPONSE_EPHEMERAL, 32);
        c = Blake2s.kdf(1, c, ephemeral)[0];
        h = Blake2s.hash(h, ephemeral);
        c = Blake2s.kdf(1, c, Noise.dh(localEphemeral, ephemeral))[0];
        c = Blake2s.kdf(1, c, Noise.dh(local.privateKey().raw(), ephemeral))[0];
        byte[][] ctk = Blake2s.kdf(3, c, presharedKey.raw());
        c = ctk[0];
        h = Blake2s.hash(h, ctk[1]);
        open(ctk[2], slice(message, Messages.RESPONSE_EMPTY, ChaChaPoly.TAG_LENGTH), h, "empty payload");

        byte[][] keys = Blake2s.kdf(2, c, new byte[0]);
        Keypair keypair = new Keypair(keys[0], keys[1], localIndex, Messages.readIndex(message, Messages.RESPONSE_SENDER),
                true, nowNanos);
        clear();
        return keypair;
    }

    /** The index of the initiation we are waiting on a response for, or 0. */
    public int pendingInitiationIndex() {
        return state == State.INITIATION_CREATED ? localIndex : 0;
    }

    /** Forgets any handshake in progress (keeps the replay timestamp). */
    public void clear() {
        state = State.NONE;
        hash = null;
        chainingKey = null;
        localEphemeral = null;
        remoteEphemeral = null;
    }

    private static byte[] open(byte[] key, byte[] ciphertext, byte[] authtext, String what) throws WireGuardException {
        try {
            return ChaChaPoly.open(key, 0, ciphertext, authtext);
        } catch (AEADBadTagException e) {
            throw new WireGuardException(WireGuardException.Reason.DECRYPTION_FAILED, "cannot decrypt " + what);
        }
    }

    private static byte[] slice(byte[] message, int offset, int length) {
        byte[] out = new byte[length];
        System.arraycopy(message, offset, out, 0, length);
        return out;
    }
}
