package io.meshwork.protocol.relay;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The messages between a relay and its clients; {@link RelayFrameCodec} has the wire format.
 *
 * <p>Handshake: the client sends {@link ClientHello}, the relay answers {@link ServerChallenge}, the client
 * proves it holds the private half of its WireGuard key and presents its device certificate in
 * {@link ClientAuth}, and the relay answers {@link AuthResult} (then {@link ObservedAddress} on success). After
 * that the client sends {@link SendPacket} / {@link SendDisco} and receives {@link ReceivedPacket} /
 * {@link ReceivedDisco}; payloads are opaque to the relay (WireGuard datagrams it cannot decrypt, and the
 * nodes' own probe and call-me-maybe messages). Over UDP every frame a client sends after the handshake travels
 * inside a {@link Sealed} frame that authenticates it under the session's key ({@link UdpSessionKey}).
 *
 * <p>Payload buffers are read-only views; the frame owns the bytes behind them.
 */
public sealed interface RelayFrame {

    RelayFrameType type();

    /** Client → relay: opens a handshake for {@code clientKey}. */
    record ClientHello(int version, RelayKey clientKey) implements RelayFrame {
        public ClientHello {
            Objects.requireNonNull(clientKey, "clientKey");
            checkByte(version, "version");
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.CLIENT_HELLO;
        }
    }

    /**
     * Relay → client: the relay's X25519 key for the proof, and a challenge the client must echo. The challenge is
     * opaque to the client; the relay checks it without keeping per-client state.
     */
    record ServerChallenge(int version, RelayKey serverKey, ByteBuffer challenge) implements RelayFrame {
        public ServerChallenge {
            Objects.requireNonNull(serverKey, "serverKey");
            checkByte(version, "version");
            challenge = fixed(challenge, RelayHandshake.CHALLENGE_BYTES, "challenge");
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.SERVER_CHALLENGE;
        }
    }

    /** Client → relay: the echoed challenge, the proof of key possession, and the DER device certificate. */
    record ClientAuth(RelayKey clientKey, ByteBuffer challenge, ByteBuffer proof, ByteBuffer certificate)
            implements RelayFrame {
        public ClientAuth {
            Objects.requireNonNull(clientKey, "clientKey");
            challenge = fixed(challenge, RelayHandshake.CHALLENGE_BYTES, "challenge");
            proof = fixed(proof, RelayHandshake.PROOF_BYTES, "proof");
            certificate = certificate.asReadOnlyBuffer();
            if (certificate.remaining() > RelayFrameCodec.MAX_CERTIFICATE_BYTES) {
                throw new IllegalArgumentException("certificate longer than " + RelayFrameCodec.MAX_CERTIFICATE_BYTES);
            }
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.CLIENT_AUTH;
        }
    }

    /**
     * Relay → client: the verdict on a {@link ClientAuth}, or {@link AuthStatus#UNAUTHENTICATED} for a stray frame.
     *
     * @param udpSessionId for an OK over UDP, the id of the session the relay opened ({@link UdpSessionKey#id()}),
     *                     so a client that sent several authentications knows which key to seal with; 0 otherwise
     */
    record AuthResult(AuthStatus status, String reason, long udpSessionId) implements RelayFrame {
        public AuthResult {
            Objects.requireNonNull(status, "status");
            reason = RelayFrameCodec.clipUtf8(Objects.requireNonNull(reason, "reason"));
        }

        /** A result that names no UDP session. */
        public AuthResult(AuthStatus status, String reason) {
            this(status, reason, 0);
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.AUTH_RESULT;
        }
    }

    /** Relay → client: the source address the relay sees the client's frames come from (endpoint reflection). */
    record ObservedAddress(Transport transport, InetSocketAddress address) implements RelayFrame {
        public ObservedAddress {
            Objects.requireNonNull(transport, "transport");
            Objects.requireNonNull(address, "address");
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("observed address must be resolved: " + address);
            }
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.OBSERVED_ADDRESS;
        }
    }

    /** Client → relay: deliver a WireGuard datagram to the client holding {@code destination}. */
    record SendPacket(RelayKey destination, ByteBuffer payload) implements RelayFrame {
        public SendPacket {
            Objects.requireNonNull(destination, "destination");
            payload = bounded(payload);
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.SEND_PACKET;
        }
    }

    /** Relay → client: a WireGuard datagram from the client holding {@code source}. */
    record ReceivedPacket(RelayKey source, ByteBuffer payload) implements RelayFrame {
        public ReceivedPacket {
            Objects.requireNonNull(source, "source");
            payload = bounded(payload);
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.RECEIVED_PACKET;
        }
    }

    /** Client → relay: deliver a node coordination message (probe, call-me-maybe) to {@code destination}. */
    record SendDisco(RelayKey destination, ByteBuffer payload) implements RelayFrame {
        public SendDisco {
            Objects.requireNonNull(destination, "destination");
            payload = bounded(payload);
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.SEND_DISCO;
        }
    }

    /** Relay → client: a node coordination message from {@code source}. */
    record ReceivedDisco(RelayKey source, ByteBuffer payload) implements RelayFrame {
        public ReceivedDisco {
            Objects.requireNonNull(source, "source");
            payload = bounded(payload);
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.RECEIVED_DISCO;
        }
    }

    /** Either side: a keepalive that asks for a {@link Pong} with the same nonce. */
    record Ping(long nonce) implements RelayFrame {
        @Override
        public RelayFrameType type() {
            return RelayFrameType.PING;
        }
    }

    record Pong(long nonce) implements RelayFrame {
        @Override
        public RelayFrameType type() {
            return RelayFrameType.PONG;
        }
    }

    /** Relay → client: a frame was addressed to {@code peer}, which is not connected to this relay. */
    record PeerGone(RelayKey peer) implements RelayFrame {
        public PeerGone {
            Objects.requireNonNull(peer, "peer");
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.PEER_GONE;
        }
    }

    /** Relay → client: the session is over; the client may authenticate again unless the reason forbids it. */
    record Goodbye(CloseReason reason, String detail) implements RelayFrame {
        public Goodbye {
            Objects.requireNonNull(reason, "reason");
            detail = RelayFrameCodec.clipUtf8(Objects.requireNonNull(detail, "detail"));
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.GOODBYE;
        }
    }

    /**
     * Client → relay over UDP, after the handshake: one frame ({@code inner}, its type byte and body as encoded) of
     * the session {@code sessionId}, numbered {@code counter} and authenticated by {@code tag}
     * ({@link UdpSessionKey#tag}). The relay forwards the inner frame only when the tag verifies under that session's
     * key and the counter is new, so a datagram from a spoofed source address cannot speak for a device.
     */
    record Sealed(long sessionId, long counter, ByteBuffer tag, ByteBuffer inner) implements RelayFrame {
        public Sealed {
            tag = fixed(tag, UdpSessionKey.TAG_BYTES, "tag");
            if (!inner.hasRemaining() || inner.remaining() > RelayFrameCodec.MAX_FRAME_BYTES) {
                throw new IllegalArgumentException("a sealed frame holds 1.." + RelayFrameCodec.MAX_FRAME_BYTES
                        + " bytes, not " + inner.remaining());
            }
            inner = inner.asReadOnlyBuffer();
        }

        @Override
        public RelayFrameType type() {
            return RelayFrameType.SEALED;
        }
    }

    /** How a client reaches the relay. */
    enum Transport {
        UDP(1),
        TCP(2);

        private final int code;

        Transport(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    /** Why the relay ended a session. */
    enum CloseReason {
        /** The client's certificate was revoked while it was connected. */
        REVOKED(1),
        /** The client's certificate expired while it was connected. */
        EXPIRED(2),
        /** Nothing arrived from the client for the idle timeout. */
        IDLE(3),
        /** The same key authenticated again, on another transport or address. */
        REPLACED(4),
        /** The relay is shutting down. */
        SHUTDOWN(5);

        private final int code;

        CloseReason(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    private static void checkByte(int value, String name) {
        if (value < 0 || value > 0xFF) {
            throw new IllegalArgumentException(name + " must fit in a byte: " + value);
        }
    }

    private static ByteBuffer fixed(ByteBuffer buffer, int length, String name) {
        if (buffer.remaining() != length) {
            throw new IllegalArgumentException(name + " has " + length + " bytes, not " + buffer.remaining());
        }
        return buffer.asReadOnlyBuffer();
    }

    private static ByteBuffer bounded(ByteBuffer payload) {
        if (payload.remaining() > RelayFrameCodec.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException(
                    "payload of " + payload.remaining() + " bytes exceeds " + RelayFrameCodec.MAX_PAYLOAD_BYTES);
        }
        return payload.asReadOnlyBuffer();
    }
}
