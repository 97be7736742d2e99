package io.meshwork.protocol.probe;

import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.probe.ProbeMessage.CallMeMaybe;
import io.meshwork.protocol.probe.ProbeMessage.Ping;
import io.meshwork.protocol.probe.ProbeMessage.Pong;
import io.meshwork.protocol.wireguard.Key;
import io.meshwork.protocol.wireguard.XChaChaPoly;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.bouncycastle.crypto.digests.Blake2sDigest;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * Seals and opens probe datagrams. Layout:
 *
 * <pre>
 *   magic (8, {@link DatagramKind#PROBE_MAGIC}) | version (1) | sender public key (32) | nonce (24)
 *   | XChaCha20-Poly1305(key, nonce, plaintext, authenticated data = the 65 header bytes)
 *   plaintext = type (1) | txid (12) | counter (8) | body
 *     ping:          nothing
 *     pong:          address
 *     call-me-maybe: flags (1, bit 0 = endpoint-dependent mapping, bit 1 = opened first) | count (1) | address * count
 *   address = family (1: 4 or 6; 0 = none) | IP (4 or 16) | port (2)
 * </pre>
 *
 * The key is BLAKE2s-256("meshwork probe v1" || X25519(own private, peer public)), the same on both sides, so
 * only the two peers can make or read their probes. A forged pong cannot move traffic to an attacker's
 * address, and the relay carrying call-me-maybe learns nothing from it. The counter is the sender's clock in
 * microseconds since the epoch, made strictly increasing; {@link ProbeFreshness} drops a probe that is stale or
 * replayed, so a captured probe cannot be sent again.
 */
public final class ProbeCodec {

    /** Version 2 added the counter; a version 1 probe is refused (BAD_HEADER). */
    public static final int VERSION = 2;
    /** How far a probe's counter may be from the receiver's clock, unless the codec is given another bound. */
    public static final Duration DEFAULT_MAX_SKEW = Duration.ofMinutes(5);
    /** Probes stay well under any path MTU. */
    public static final int MAX_DATAGRAM = 1200;
    private static final int HEADER = DatagramKind.PROBE_MAGIC.length + 1 + Key.LENGTH + XChaChaPoly.NONCE_LENGTH;
    private static final int TAG = 16;
    private static final byte PING = 1;
    private static final byte PONG = 2;
    private static final byte CALL_ME_MAYBE = 3;
    private static final byte[] LABEL = "meshwork probe v1".getBytes(StandardCharsets.US_ASCII);

    private final Key privateKey;
    private final Key publicKey;
    private final Map<Key, byte[]> sharedKeys = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final Clock clock;
    private final ProbeFreshness freshness;
    private final AtomicLong lastCounter = new AtomicLong();

    public ProbeCodec(Key privateKey) {
        this(privateKey, Clock.systemUTC(), DEFAULT_MAX_SKEW);
    }

    /** A codec whose counters and freshness checks read {@code clock}, accepting probes within {@code maxSkew}. */
    public ProbeCodec(Key privateKey, Clock clock, Duration maxSkew) {
        this.privateKey = privateKey;
        this.publicKey = privateKey.publicKey();
        this.clock = clock;
        this.freshness = new ProbeFreshness(maxSkew);
    }

    /** A datagram carrying {@code message} from this node to {@code peer}. */
    public ByteBuffer seal(Key peer, ProbeMessage message) {
        long now = micros(clock.instant());
        byte[] plaintext = plaintext(message, lastCounter.accumulateAndGet(now, (last, clockNow) ->
                Math.max(last + 1, clockNow)));
        byte[] header = new byte[HEADER];
        System.arraycopy(DatagramKind.PROBE_MAGIC, 0, header, 0, DatagramKind.PROBE_MAGIC.length);
        header[DatagramKind.PROBE_MAGIC.length] = VERSION;
        publicKey.copyTo(header, DatagramKind.PROBE_MAGIC.length + 1);
        byte[] nonce = new byte[XChaChaPoly.NONCE_LENGTH];
        random.nextBytes(nonce);
        System.arraycopy(nonce, 0, header, HEADER - nonce.length, nonce.length);
        byte[] sealed = XChaChaPoly.seal(sharedKey(peer), nonce, plaintext, header);
        return ByteBuffer.allocate(header.length + sealed.length).put(header).put(sealed).flip();
    }

    /**
     * Opens the readable bytes of {@code datagram} (position unchanged).
     *
     * @param isPeer which senders to accept: anything else is refused before any cryptography
     */
    public Opened open(ByteBuffer datagram, Predicate<Key> isPeer) throws ProbeException {
        int length = datagram.remaining();
        if (length < HEADER + TAG + 1 + ProbeMessage.TXID_LENGTH + Long.BYTES || length > MAX_DATAGRAM) {
            throw new ProbeException(ProbeException.Reason.BAD_LENGTH, length + " bytes");
        }
        ByteBuffer in = datagram.duplicate();
        byte[] header = new byte[HEADER];
        in.get(header);
        for (int i = 0; i < DatagramKind.PROBE_MAGIC.length; i++) {
            if (header[i] != DatagramKind.PROBE_MAGIC[i]) {
                throw new ProbeException(ProbeException.Reason.BAD_HEADER, "no probe magic");
            }
        }
        if (header[DatagramKind.PROBE_MAGIC.length] != VERSION) {
            throw new ProbeException(ProbeException.Reason.BAD_HEADER,
                    "version " + (header[DatagramKind.PROBE_MAGIC.length] & 0xFF));
        }
        byte[] senderBytes = new byte[Key.LENGTH];
        System.arraycopy(header, DatagramKind.PROBE_MAGIC.length + 1, senderBytes, 0, Key.LENGTH);
        Key sender = Key.of(senderBytes);
        if (!isPeer.test(sender)) {
            throw new ProbeException(ProbeException.Reason.UNKNOWN_SENDER, sender.toBase64());
        }
        byte[] nonce = new byte[XChaChaPoly.NONCE_LENGTH];
        System.arraycopy(header, HEADER - nonce.length, nonce, 0, nonce.length);
        byte[] ciphertext = new byte[in.remaining()];
        in.get(ciphertext);
        byte[] plaintext;
        try {
            plaintext = XChaChaPoly.open(sharedKey(sender), nonce, ciphertext, header);
        } catch (InvalidCipherTextException | IllegalStateException e) {
            throw new ProbeException(ProbeException.Reason.NOT_AUTHENTIC, "from " + sender.toBase64());
        }
        ProbeMessage message = parse(ByteBuffer.wrap(plaintext));
        // Checked after the tag verified, so a forgery cannot use up a place in the sender's window.
        freshness.accept(sender, ByteBuffer.wrap(plaintext).getLong(1 + ProbeMessage.TXID_LENGTH),
                micros(clock.instant()));
        return new Opened(sender, message);
    }

    /** An authentic message and who sent it. */
    public record Opened(Key sender, ProbeMessage message) {}

    /** Forgets the key shared with a peer that left. */
    public void forget(Key peer) {
        sharedKeys.remove(peer);
        freshness.forget(peer);
    }

    private static long micros(Instant instant) {
        return instant.getEpochSecond() * 1_000_000 + instant.getNano() / 1_000;
    }

    private byte[] sharedKey(Key peer) throws IllegalStateException {
        return sharedKeys.computeIfAbsent(peer, key -> {
            byte[] shared = new byte[32];
            if (!X25519.calculateAgreement(privateKey.toBytes(), 0, key.toBytes(), 0, shared, 0)) {
                throw new IllegalStateException("low-order public key");
            }
            Blake2sDigest digest = new Blake2sDigest(256);
            digest.update(LABEL, 0, LABEL.length);
            digest.update(shared, 0, shared.length);
            byte[] out = new byte[32];
            digest.doFinal(out, 0);
            return out;
        });
    }

    private static byte[] plaintext(ProbeMessage message, long counter) {
        ByteBuffer out = ByteBuffer.allocate(MAX_DATAGRAM - HEADER - TAG);
        if (message instanceof Ping ping) {
            out.put(PING).put(ping.txid()).putLong(counter);
        } else if (message instanceof Pong pong) {
            out.put(PONG).put(pong.txid()).putLong(counter);
            putAddress(out, pong.observed());
        } else {
            CallMeMaybe call = (CallMeMaybe) message;
            out.put(CALL_ME_MAYBE).put(new byte[ProbeMessage.TXID_LENGTH]).putLong(counter);
            out.put((byte) ((call.endpointDependentMapping() ? 1 : 0) | (call.openedFirst() ? 2 : 0)));
            out.put((byte) call.endpoints().size());
            call.endpoints().forEach(endpoint -> putAddress(out, endpoint));
        }
        byte[] bytes = new byte[out.position()];
        out.flip().get(bytes);
        return bytes;
    }

    private static ProbeMessage parse(ByteBuffer in) throws ProbeException {
        try {
            byte type = in.get();
            byte[] txid = new byte[ProbeMessage.TXID_LENGTH];
            in.get(txid);
            in.getLong(); // the counter, checked by the caller once the message parsed
            ProbeMessage message = switch (type) {
                case PING -> new Ping(txid);
                case PONG -> new Pong(txid, address(in));
                case CALL_ME_MAYBE -> {
                    int flags = in.get() & 0xFF;
                    int count = in.get() & 0xFF;
                    if (count > CallMeMaybe.MAX_ENDPOINTS) {
                        throw new ProbeException(ProbeException.Reason.MALFORMED, count + " endpoints");
                    }
                    List<InetSocketAddress> endpoints = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        InetSocketAddress endpoint = address(in);
                        if (endpoint == null) {
                            throw new ProbeException(ProbeException.Reason.MALFORMED, "empty endpoint");
                        }
                        endpoints.add(endpoint);
                    }
                    // Other flag bits are ignored: a later version may add some.
                    yield new CallMeMaybe(endpoints, (flags & 1) != 0, (flags & 2) != 0);
                }
                default -> throw new ProbeException(ProbeException.Reason.MALFORMED, "type " + (type & 0xFF));
            };
            if (in.hasRemaining()) {
                throw new ProbeException(ProbeException.Reason.MALFORMED, in.remaining() + " trailing bytes");
            }
            return message;
        } catch (java.nio.BufferUnderflowException e) {
            throw new ProbeException(ProbeException.Reason.MALFORMED, "truncated");
        }
    }

    private static void putAddress(ByteBuffer out, InetSocketAddress address) {
        if (address == null) {
            out.put((byte) 0);
            return;
        }
        byte[] ip = address.getAddress().getAddress();
        out.put((byte) (ip.length == 4 ? 4 : 6)).put(ip).putShort((short) address.getPort());
    }

    private static InetSocketAddress address(ByteBuffer in) throws ProbeException {
        int family = in.get() & 0xFF;
        if (family == 0) {
            return null;
        }
        if (family != 4 && family != 6) {
            throw new ProbeException(ProbeException.Reason.MALFORMED, "address family " + family);
        }
        byte[] ip = new byte[family == 4 ? 4 : 16];
        in.get(ip);
        int port = in.getShort() & 0xFFFF;
        if (port == 0) {
            throw new ProbeException(ProbeException.Reason.MALFORMED, "port 0");
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new ProbeException(ProbeException.Reason.MALFORMED, "address: " + e.getMessage());
        }
    }
}
