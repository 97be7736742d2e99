package io.meshwork.relay.server;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayFrameException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * One client's stream connection (TCP) at the relay, whatever carries it: the handshake, then the client's
 * frames to the {@link RelayHub}. A refused client gets the reason and the connection is closed. Frames of one
 * connection arrive on one thread, in order.
 *
 * <p>Before authentication the relay does as little as it can for the client: one hello per connection (a second
 * one closes it), answers only while the client reads them (a full send queue closes it) and within its source
 * address's answer budget, and a stray frame is answered "unauthenticated" once, then the connection is closed. So
 * an unauthenticated connection costs at most a challenge and a verdict of send queue.
 */
public final class StreamConnection {

    private final RelayHub hub;
    private final InetSocketAddress remote;
    private final FrameStream stream;
    private final Runnable pendingEnded;
    private StreamSession session;
    private boolean helloSeen;
    private boolean pending = true;
    /** Set when the relay closes the stream: frames already decoded behind the one that closed it are ignored. */
    private boolean closing;

    /** {@code pendingEnded} runs once, when the connection authenticates or closes, whichever comes first. */
    StreamConnection(RelayHub hub, InetSocketAddress remote, FrameStream stream, Runnable pendingEnded) {
        this.hub = hub;
        this.remote = remote;
        this.stream = stream;
        this.pendingEnded = pendingEnded;
    }

    /** Whether the client has authenticated on this connection. */
    public boolean authenticated() {
        return session != null;
    }

    /**
     * One length-prefixed frame as the client wrote it ({@link RelayFrameCodec#encodeStream}). A frame that fails
     * to decode is dropped and counted; a bad length prefix loses the framing and closes the connection.
     */
    public void onStreamFrame(ByteBuffer encoded) {
        int length;
        try {
            length = RelayFrameCodec.streamFrameLength(encoded.duplicate());
        } catch (RelayFrameException e) {
            hub.dropped(DropReason.FRAMING, e.getMessage(), remote);
            close();
            return;
        }
        if (length < 0 || encoded.remaining() != RelayFrameCodec.STREAM_HEADER_BYTES + length) {
            hub.dropped(DropReason.FRAMING, encoded.remaining() + " bytes for a frame of " + length, remote);
            close();
            return;
        }
        RelayFrame frame;
        try {
            frame = RelayFrameCodec.decodeFrame(
                    encoded.duplicate().position(encoded.position() + RelayFrameCodec.STREAM_HEADER_BYTES));
        } catch (RelayFrameException e) {
            hub.dropped(e.reason() == RelayFrameException.Reason.UNKNOWN_TYPE
                    ? DropReason.UNKNOWN_TYPE : DropReason.MALFORMED, e.getMessage(), remote);
            return;
        }
        onFrame(frame, encoded.remaining());
    }

    /** A decoded frame of {@code wireBytes} bytes on the stream (length prefix included). */
    void onFrame(RelayFrame frame, int wireBytes) {
        if (closing || !stream.isOpen()) {
            return; // closed by the relay: what the client sent after that is not read
        }
        String source = "tcp/" + remote;
        if (frame instanceof ClientHello hello) {
            if (helloSeen) {
                hub.dropped(DropReason.HELLO_REPEATED, "second hello on one connection", remote);
                close();
                return;
            }
            helloSeen = true;
            if (hub.mayAnswer(remote, DropReason.HANDSHAKE_RATE_LIMITED, "hello")) {
                answer(hub.onHello(hello, source));
            } else {
                close();
            }
        } else if (frame instanceof ClientAuth && session != null) {
            hub.dropped(DropReason.UNEXPECTED_FRAME, "second authentication on one connection", remote);
        } else if (frame instanceof ClientAuth auth) {
            if (!hub.mayAnswer(remote, DropReason.HANDSHAKE_RATE_LIMITED, "auth")) {
                close();
                return;
            }
            Optional<StreamSession> opened = hub.onAuth(auth, source,
                    (device, bucket, now) -> new StreamSession(device, remote, bucket, now, stream),
                    this::answer);
            if (opened.isPresent()) {
                session = opened.get();
                endPending();
            } else {
                close();
            }
        } else if (session == null) {
            hub.dropped(DropReason.UNAUTHENTICATED, frame.type().name(), remote);
            answer(new AuthResult(AuthStatus.UNAUTHENTICATED, ""));
            close();
        } else {
            hub.onSessionFrame(session, frame, wireBytes);
        }
    }

    /**
     * Writes a handshake answer, unless the client has not read what it was sent (its send queue is above the high
     * watermark): then the answer is dropped and the connection closed, so an unreading client cannot make the relay
     * buffer without bound.
     */
    private void answer(RelayFrame frame) {
        if (!stream.isOpen()) {
            return;
        }
        if (!stream.writable()) {
            hub.dropped(DropReason.PRE_AUTH_UNWRITABLE, frame.type().name(), remote);
            close();
            return;
        }
        stream.write(frame);
    }

    private void close() {
        closing = true;
        stream.close();
    }

    private void endPending() {
        if (pending) {
            pending = false;
            pendingEnded.run();
        }
    }

    /** The connection went away (closed by the client, or by the relay). */
    public void onClosed() {
        endPending();
        if (session != null) {
            hub.onDisconnected(session);
        }
    }
}
