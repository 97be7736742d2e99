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
 */
public final class StreamConnection {

    private final RelayHub hub;
    private final InetSocketAddress remote;
    private final FrameStream stream;
    private StreamSession session;

    StreamConnection(RelayHub hub, InetSocketAddress remote, FrameStream stream) {
        this.hub = hub;
        this.remote = remote;
        this.stream = stream;
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
            stream.close();
            return;
        }
        if (length < 0 || encoded.remaining() != RelayFrameCodec.STREAM_HEADER_BYTES + length) {
            hub.dropped(DropReason.FRAMING, encoded.remaining() + " bytes for a frame of " + length, remote);
            stream.close();
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
        String source = "tcp/" + remote;
        if (frame instanceof ClientHello hello) {
            stream.write(hub.onHello(hello, source));
        } else if (frame instanceof ClientAuth && session != null) {
            hub.dropped(DropReason.UNEXPECTED_FRAME, "second authentication on one connection", remote);
        } else if (frame instanceof ClientAuth auth) {
            Optional<StreamSession> opened = hub.onAuth(auth, source,
                    (device, bucket, now) -> new StreamSession(device, remote, bucket, now, stream),
                    stream::write);
            if (opened.isPresent()) {
                session = opened.get();
            } else {
                stream.close();
            }
        } else if (session == null) {
            hub.dropped(DropReason.UNAUTHENTICATED, frame.type().name(), remote);
            stream.write(new AuthResult(AuthStatus.UNAUTHENTICATED, ""));
        } else {
            hub.onSessionFrame(session, frame, wireBytes);
        }
    }

    /** The connection went away (closed by the client, or by the relay). */
    public void onClosed() {
        if (session != null) {
            hub.onDisconnected(session);
        }
    }
}
