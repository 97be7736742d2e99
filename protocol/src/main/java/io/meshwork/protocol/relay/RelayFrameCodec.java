package io.meshwork.protocol.relay;

import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.ObservedAddress;
import io.meshwork.protocol.relay.RelayFrame.PeerGone;
import io.meshwork.protocol.relay.RelayFrame.Ping;
import io.meshwork.protocol.relay.RelayFrame.Pong;
import io.meshwork.protocol.relay.RelayFrame.ReceivedDisco;
import io.meshwork.protocol.relay.RelayFrame.ReceivedPacket;
import io.meshwork.protocol.relay.RelayFrame.SendDisco;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The relay wire format. Every frame is a type byte then a body; all integers are big-endian.
 *
 * <pre>
 * UDP datagram:  F1 4D 57 52 ("\xF1MWR", {@link DatagramKind#RELAY_MAGIC}) | type (1) | body
 * TCP stream:    length (2, of type + body, 1..{@value #MAX_FRAME_BYTES}) | type (1) | body
 *
 * type body
 * 01 CLIENT_HELLO      version (1) | client key (32)
 * 02 SERVER_CHALLENGE  version (1) | relay key (32) | challenge (24)
 * 03 CLIENT_AUTH       client key (32) | challenge (24) | proof (32) | cert length (2) | cert DER
 * 04 AUTH_RESULT       status (1) | reason length (1) | reason UTF-8 [| UDP session id (8), on an OK over UDP]
 * 05 OBSERVED_ADDRESS  transport (1: 1 UDP, 2 TCP) | family (1: 4 or 6) | port (2) | address (4 or 16)
 * 06 SEND_PACKET       destination key (32) | payload
 * 07 RECEIVED_PACKET   source key (32) | payload
 * 08 SEND_DISCO        destination key (32) | payload
 * 09 RECEIVED_DISCO    source key (32) | payload
 * 0A PING              nonce (8)
 * 0B PONG              nonce (8)
 * 0C PEER_GONE         peer key (32)
 * 0D GOODBYE           reason (1) | detail length (1) | detail UTF-8
 * 0E SEALED            session id (8) | counter (8) | tag (16) | inner frame (type (1) | body), UDP only
 * </pre>
 *
 * <p>Since handshake version 2 ({@link RelayHandshake#VERSION}) a UDP client sends every frame after its
 * handshake as the inner frame of a SEALED frame ({@link UdpSessionKey} has the tag); the inner frame may be at
 * most {@value #MAX_FRAME_BYTES} bytes, so a SEALED frame may exceed that bound by {@value #SEALED_OVERHEAD_BYTES}.
 *
 * <p>Decoding is strict on the fixed fields and lax on trailing bytes after them (a later version may append
 * fields); payload frames take everything after the key as the payload.
 *
 * <p>What receivers do with a {@link RelayFrameException}: on UDP, drop the datagram and count it by
 * {@link RelayFrameException.Reason}. On TCP, an unknown type or a malformed body is dropped and counted and the
 * connection stays up (the length prefix keeps the stream in step), but a bad length prefix (zero, or above
 * {@value #MAX_FRAME_BYTES}) loses framing, so the connection is closed.
 */
public final class RelayFrameCodec {

    /** Largest type + body, in bytes, on either transport. */
    public static final int MAX_FRAME_BYTES = 8192;
    /** Largest opaque payload a send or receive frame can carry. */
    public static final int MAX_PAYLOAD_BYTES = MAX_FRAME_BYTES - 1 - RelayKey.LENGTH;
    /** Largest certificate a {@link ClientAuth} can carry. */
    public static final int MAX_CERTIFICATE_BYTES = MAX_FRAME_BYTES - 1 - RelayKey.LENGTH
            - RelayHandshake.CHALLENGE_BYTES - RelayHandshake.PROOF_BYTES - 2;
    /** Largest reason text, in UTF-8 bytes; longer texts are cut at a character boundary. */
    public static final int MAX_REASON_BYTES = 255;
    /** Bytes before the type byte in a datagram. */
    public static final int DATAGRAM_HEADER_BYTES = DatagramKind.RELAY_MAGIC.length;
    /** Bytes a SEALED frame adds around its inner frame: type, session id, counter and tag. */
    public static final int SEALED_OVERHEAD_BYTES = 1 + 2 * Long.BYTES + UdpSessionKey.TAG_BYTES;
    /** Bytes of the length prefix on a stream. */
    public static final int STREAM_HEADER_BYTES = 2;

    private RelayFrameCodec() {}

    /** The frame as one UDP datagram. */
    public static byte[] encodeDatagram(RelayFrame frame) {
        ByteBuffer out = ByteBuffer.allocate(DATAGRAM_HEADER_BYTES + frameLength(frame));
        out.put(DatagramKind.RELAY_MAGIC);
        writeFrame(frame, out);
        return out.array();
    }

    /** The frame as one UDP datagram, zero-padded to at least {@code minimumBytes}. */
    public static byte[] encodeDatagram(RelayFrame frame, int minimumBytes) {
        byte[] exact = encodeDatagram(frame);
        return exact.length >= minimumBytes ? exact : Arrays.copyOf(exact, minimumBytes);
    }

    /** The frame's type byte and body, as a {@link RelayFrame.Sealed} frame carries it. */
    public static byte[] encodeFrame(RelayFrame frame) {
        ByteBuffer out = ByteBuffer.allocate(frameLength(frame));
        writeFrame(frame, out);
        return out.array();
    }

    /** The frame with its length prefix, for a TCP stream. */
    public static byte[] encodeStream(RelayFrame frame) {
        int length = frameLength(frame);
        ByteBuffer out = ByteBuffer.allocate(STREAM_HEADER_BYTES + length);
        out.putShort((short) length);
        writeFrame(frame, out);
        return out.array();
    }

    /** Decodes one UDP datagram (its readable bytes); the buffer's position is left unchanged. */
    public static RelayFrame decodeDatagram(ByteBuffer datagram) throws RelayFrameException {
        ByteBuffer in = datagram.duplicate();
        if (in.remaining() < DATAGRAM_HEADER_BYTES + 1) {
            throw new RelayFrameException(RelayFrameException.Reason.TOO_SHORT,
                    "datagram of " + in.remaining() + " bytes");
        }
        for (byte magic : DatagramKind.RELAY_MAGIC) {
            if (in.get() != magic) {
                throw new RelayFrameException(RelayFrameException.Reason.BAD_MAGIC, "no relay magic");
            }
        }
        return decodeFrame(in);
    }

    /**
     * Reads the length prefix at the buffer's position without consuming it: -1 when fewer than
     * {@value #STREAM_HEADER_BYTES} bytes are readable, else the length of the frame that follows.
     *
     * @throws RelayFrameException (OVERSIZED or TOO_SHORT) when the prefix is out of range: framing is lost
     */
    public static int streamFrameLength(ByteBuffer stream) throws RelayFrameException {
        if (stream.remaining() < STREAM_HEADER_BYTES) {
            return -1;
        }
        int length = Short.toUnsignedInt(stream.getShort(stream.position()));
        if (length == 0) {
            throw new RelayFrameException(RelayFrameException.Reason.TOO_SHORT, "zero-length stream frame");
        }
        if (length > MAX_FRAME_BYTES) {
            throw new RelayFrameException(RelayFrameException.Reason.OVERSIZED,
                    "stream frame of " + length + " bytes exceeds " + MAX_FRAME_BYTES);
        }
        return length;
    }

    /** Decodes a type byte and body: the readable bytes of {@code frame}, consumed. */
    public static RelayFrame decodeFrame(ByteBuffer frame) throws RelayFrameException {
        boolean sealed = frame.hasRemaining() && Byte.toUnsignedInt(frame.get(frame.position()))
                == RelayFrameType.SEALED.code();
        if (frame.remaining() > MAX_FRAME_BYTES + (sealed ? SEALED_OVERHEAD_BYTES : 0)) {
            throw new RelayFrameException(RelayFrameException.Reason.OVERSIZED,
                    "frame of " + frame.remaining() + " bytes exceeds " + MAX_FRAME_BYTES);
        }
        need(frame, 1, "type");
        int code = Byte.toUnsignedInt(frame.get());
        RelayFrameType type = RelayFrameType.fromCode(code).orElseThrow(() -> new RelayFrameException(
                RelayFrameException.Reason.UNKNOWN_TYPE, String.format("type 0x%02x", code)));
        return switch (type) {
            case CLIENT_HELLO -> {
                need(frame, 1 + RelayKey.LENGTH, "client hello");
                yield new ClientHello(Byte.toUnsignedInt(frame.get()), key(frame));
            }
            case SERVER_CHALLENGE -> {
                need(frame, 1 + RelayKey.LENGTH + RelayHandshake.CHALLENGE_BYTES, "server challenge");
                int version = Byte.toUnsignedInt(frame.get());
                yield new ServerChallenge(version, key(frame), bytes(frame, RelayHandshake.CHALLENGE_BYTES));
            }
            case CLIENT_AUTH -> decodeClientAuth(frame);
            case AUTH_RESULT -> {
                need(frame, 2, "auth result");
                int statusCode = Byte.toUnsignedInt(frame.get());
                AuthStatus status = AuthStatus.fromCode(statusCode).orElseThrow(() -> new RelayFrameException(
                        RelayFrameException.Reason.BAD_FIELD, "auth status " + statusCode));
                String reason = text(frame);
                yield new AuthResult(status, reason, frame.remaining() >= Long.BYTES ? frame.getLong() : 0);
            }
            case OBSERVED_ADDRESS -> decodeObservedAddress(frame);
            case SEND_PACKET -> {
                need(frame, RelayKey.LENGTH, "send packet");
                yield new SendPacket(key(frame), rest(frame));
            }
            case RECEIVED_PACKET -> {
                need(frame, RelayKey.LENGTH, "received packet");
                yield new ReceivedPacket(key(frame), rest(frame));
            }
            case SEND_DISCO -> {
                need(frame, RelayKey.LENGTH, "send disco");
                yield new SendDisco(key(frame), rest(frame));
            }
            case RECEIVED_DISCO -> {
                need(frame, RelayKey.LENGTH, "received disco");
                yield new ReceivedDisco(key(frame), rest(frame));
            }
            case PING -> {
                need(frame, Long.BYTES, "ping");
                yield new Ping(frame.getLong());
            }
            case PONG -> {
                need(frame, Long.BYTES, "pong");
                yield new Pong(frame.getLong());
            }
            case PEER_GONE -> {
                need(frame, RelayKey.LENGTH, "peer gone");
                yield new PeerGone(key(frame));
            }
            case GOODBYE -> {
                need(frame, 2, "goodbye");
                int reasonCode = Byte.toUnsignedInt(frame.get());
                CloseReason reason = closeReason(reasonCode);
                yield new Goodbye(reason, text(frame));
            }
            case SEALED -> {
                need(frame, 2 * Long.BYTES + UdpSessionKey.TAG_BYTES + 1, "sealed");
                long sessionId = frame.getLong();
                long counter = frame.getLong();
                yield new RelayFrame.Sealed(sessionId, counter, bytes(frame, UdpSessionKey.TAG_BYTES), rest(frame));
            }
        };
    }

    private static ClientAuth decodeClientAuth(ByteBuffer frame) throws RelayFrameException {
        int fixed = RelayKey.LENGTH + RelayHandshake.CHALLENGE_BYTES + RelayHandshake.PROOF_BYTES + 2;
        need(frame, fixed, "client auth");
        RelayKey key = key(frame);
        ByteBuffer challenge = bytes(frame, RelayHandshake.CHALLENGE_BYTES);
        ByteBuffer proof = bytes(frame, RelayHandshake.PROOF_BYTES);
        int certificateLength = Short.toUnsignedInt(frame.getShort());
        need(frame, certificateLength, "certificate");
        return new ClientAuth(key, challenge, proof, bytes(frame, certificateLength));
    }

    private static ObservedAddress decodeObservedAddress(ByteBuffer frame) throws RelayFrameException {
        need(frame, 4, "observed address");
        int transportCode = Byte.toUnsignedInt(frame.get());
        Transport transport = switch (transportCode) {
            case 1 -> Transport.UDP;
            case 2 -> Transport.TCP;
            default -> throw new RelayFrameException(RelayFrameException.Reason.BAD_FIELD,
                    "transport " + transportCode);
        };
        int family = Byte.toUnsignedInt(frame.get());
        int addressLength = switch (family) {
            case 4 -> 4;
            case 6 -> 16;
            default -> throw new RelayFrameException(RelayFrameException.Reason.BAD_FIELD, "family " + family);
        };
        int port = Short.toUnsignedInt(frame.getShort());
        need(frame, addressLength, "address");
        byte[] address = new byte[addressLength];
        frame.get(address);
        try {
            return new ObservedAddress(transport, new InetSocketAddress(InetAddress.getByAddress(address), port));
        } catch (UnknownHostException e) {
            throw new RelayFrameException(RelayFrameException.Reason.BAD_FIELD, "address: " + e.getMessage());
        }
    }

    private static CloseReason closeReason(int code) throws RelayFrameException {
        for (CloseReason reason : CloseReason.values()) {
            if (reason.code() == code) {
                return reason;
            }
        }
        throw new RelayFrameException(RelayFrameException.Reason.BAD_FIELD, "close reason " + code);
    }

    private static void need(ByteBuffer in, int bytes, String what) throws RelayFrameException {
        if (in.remaining() < bytes) {
            throw new RelayFrameException(RelayFrameException.Reason.TOO_SHORT,
                    what + " needs " + bytes + " bytes, has " + in.remaining());
        }
    }

    private static RelayKey key(ByteBuffer in) {
        byte[] key = new byte[RelayKey.LENGTH];
        in.get(key);
        return RelayKey.wrap(key);
    }

    private static ByteBuffer bytes(ByteBuffer in, int length) {
        byte[] copy = new byte[length];
        in.get(copy);
        return ByteBuffer.wrap(copy);
    }

    private static ByteBuffer rest(ByteBuffer in) {
        return bytes(in, in.remaining());
    }

    private static String text(ByteBuffer in) throws RelayFrameException {
        int length = Byte.toUnsignedInt(in.get());
        need(in, length, "text");
        ByteBuffer slice = in.slice();
        slice.limit(length);
        in.position(in.position() + length);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice).toString();
        } catch (CharacterCodingException e) {
            throw new RelayFrameException(RelayFrameException.Reason.BAD_FIELD, "text is not UTF-8");
        }
    }

    /** Cuts {@code text} to at most {@value #MAX_REASON_BYTES} UTF-8 bytes, never inside a character. */
    static String clipUtf8(String text) {
        if (text.length() * 3 <= MAX_REASON_BYTES || utf8Length(text) <= MAX_REASON_BYTES) {
            return text;
        }
        int end = text.length();
        while (utf8Length(text.substring(0, end)) > MAX_REASON_BYTES) {
            end--;
            if (end > 0 && Character.isLowSurrogate(text.charAt(end))) {
                end--;
            }
        }
        return text.substring(0, end);
    }

    private static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    private static int frameLength(RelayFrame frame) {
        return 1 + switch (frame.type()) {
            case CLIENT_HELLO -> 1 + RelayKey.LENGTH;
            case SERVER_CHALLENGE -> 1 + RelayKey.LENGTH + RelayHandshake.CHALLENGE_BYTES;
            case CLIENT_AUTH -> RelayKey.LENGTH + RelayHandshake.CHALLENGE_BYTES + RelayHandshake.PROOF_BYTES + 2
                    + ((ClientAuth) frame).certificate().remaining();
            case AUTH_RESULT -> 2 + utf8Length(((AuthResult) frame).reason())
                    + (((AuthResult) frame).udpSessionId() != 0 ? Long.BYTES : 0);
            case OBSERVED_ADDRESS -> 4 + ((ObservedAddress) frame).address().getAddress().getAddress().length;
            case SEND_PACKET -> RelayKey.LENGTH + ((SendPacket) frame).payload().remaining();
            case RECEIVED_PACKET -> RelayKey.LENGTH + ((ReceivedPacket) frame).payload().remaining();
            case SEND_DISCO -> RelayKey.LENGTH + ((SendDisco) frame).payload().remaining();
            case RECEIVED_DISCO -> RelayKey.LENGTH + ((ReceivedDisco) frame).payload().remaining();
            case PING, PONG -> Long.BYTES;
            case PEER_GONE -> RelayKey.LENGTH;
            case GOODBYE -> 2 + utf8Length(((Goodbye) frame).detail());
            case SEALED -> 2 * Long.BYTES + UdpSessionKey.TAG_BYTES + ((RelayFrame.Sealed) frame).inner().remaining();
        };
    }

    private static void writeFrame(RelayFrame frame, ByteBuffer out) {
        out.put((byte) frame.type().code());
        switch (frame.type()) {
            case CLIENT_HELLO -> {
                ClientHello hello = (ClientHello) frame;
                out.put((byte) hello.version());
                out.put(hello.clientKey().unsafeBytes());
            }
            case SERVER_CHALLENGE -> {
                ServerChallenge challenge = (ServerChallenge) frame;
                out.put((byte) challenge.version());
                out.put(challenge.serverKey().unsafeBytes());
                out.put(challenge.challenge().duplicate());
            }
            case CLIENT_AUTH -> {
                ClientAuth auth = (ClientAuth) frame;
                out.put(auth.clientKey().unsafeBytes());
                out.put(auth.challenge().duplicate());
                out.put(auth.proof().duplicate());
                out.putShort((short) auth.certificate().remaining());
                out.put(auth.certificate().duplicate());
            }
            case AUTH_RESULT -> {
                AuthResult result = (AuthResult) frame;
                out.put((byte) result.status().code());
                putText(out, result.reason());
                if (result.udpSessionId() != 0) {
                    out.putLong(result.udpSessionId());
                }
            }
            case OBSERVED_ADDRESS -> {
                ObservedAddress observed = (ObservedAddress) frame;
                byte[] address = observed.address().getAddress().getAddress();
                out.put((byte) observed.transport().code());
                out.put((byte) (address.length == 4 ? 4 : 6));
                out.putShort((short) observed.address().getPort());
                out.put(address);
            }
            case SEND_PACKET -> keyAndPayload(out, ((SendPacket) frame).destination(), ((SendPacket) frame).payload());
            case RECEIVED_PACKET ->
                    keyAndPayload(out, ((ReceivedPacket) frame).source(), ((ReceivedPacket) frame).payload());
            case SEND_DISCO -> keyAndPayload(out, ((SendDisco) frame).destination(), ((SendDisco) frame).payload());
            case RECEIVED_DISCO ->
                    keyAndPayload(out, ((ReceivedDisco) frame).source(), ((ReceivedDisco) frame).payload());
            case PING -> out.putLong(((Ping) frame).nonce());
            case PONG -> out.putLong(((Pong) frame).nonce());
            case PEER_GONE -> out.put(((PeerGone) frame).peer().unsafeBytes());
            case GOODBYE -> {
                Goodbye goodbye = (Goodbye) frame;
                out.put((byte) goodbye.reason().code());
                putText(out, goodbye.detail());
            }
            case SEALED -> {
                RelayFrame.Sealed sealed = (RelayFrame.Sealed) frame;
                out.putLong(sealed.sessionId());
                out.putLong(sealed.counter());
                out.put(sealed.tag().duplicate());
                out.put(sealed.inner().duplicate());
            }
        }
    }

    private static void keyAndPayload(ByteBuffer out, RelayKey key, ByteBuffer payload) {
        out.put(key.unsafeBytes());
        out.put(payload.duplicate());
    }

    private static void putText(ByteBuffer out, String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        out.put((byte) utf8.length);
        out.put(utf8);
    }
}
