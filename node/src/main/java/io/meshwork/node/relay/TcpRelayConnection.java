package io.meshwork.node.relay;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayFrameException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP (optionally TLS) connection to a relay, with a reader thread and a writer thread so that neither the
 * caller of {@link #send} nor the frame handler ever blocks on the socket. Sends beyond the bounded queue are
 * dropped. Framing follows {@link RelayFrameCodec}: an undecodable frame is skipped and counted, a length prefix
 * out of range ends the connection.
 */
final class TcpRelayConnection implements RelayStreamConnector.Stream, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TcpRelayConnection.class);
    private static final byte[] CLOSE_MARKER = new byte[0];

    private final Socket socket;
    private final BlockingQueue<byte[]> outbound;
    private final AtomicLong droppedInbound;
    private volatile boolean closed;

    private TcpRelayConnection(Socket socket, int queueFrames, AtomicLong droppedInbound) {
        this.socket = socket;
        this.outbound = new ArrayBlockingQueue<>(queueFrames);
        this.droppedInbound = droppedInbound;
    }

    /**
     * Connects (blocking, bounded by {@code timeout}) and starts the reader and writer threads. {@code onFrame}
     * receives every decoded frame on the reader thread; {@code onClosed} runs once when the connection ends.
     */
    static TcpRelayConnection open(InetSocketAddress address, Optional<SSLSocketFactory> tls, Duration timeout,
            int queueFrames, AtomicLong droppedInbound, Consumer<RelayFrame> onFrame, Runnable onClosed)
            throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(address, (int) timeout.toMillis());
            if (tls.isPresent()) {
                SSLSocket secure = (SSLSocket) tls.get().createSocket(socket, address.getHostString(),
                        address.getPort(), true);
                SSLParameters parameters = secure.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                secure.setSSLParameters(parameters);
                secure.setSoTimeout((int) timeout.toMillis());
                secure.startHandshake();
                secure.setSoTimeout(0);
                socket = secure;
            }
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        TcpRelayConnection connection = new TcpRelayConnection(socket, queueFrames, droppedInbound);
        connection.startThreads(address, onFrame, onClosed);
        return connection;
    }

    private void startThreads(InetSocketAddress address, Consumer<RelayFrame> onFrame, Runnable onClosed) {
        Thread reader = new Thread(() -> {
            try {
                readLoop(onFrame);
            } catch (IOException e) {
                if (!closed) {
                    log.debug("relay connection to {} lost: {}", address, e.toString());
                }
            } finally {
                close();
                onClosed.run();
            }
        }, "relay-tcp-reader-" + address);
        Thread writer = new Thread(this::writeLoop, "relay-tcp-writer-" + address);
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
    }

    private void readLoop(Consumer<RelayFrame> onFrame) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 << 10));
        byte[] header = new byte[RelayFrameCodec.STREAM_HEADER_BYTES];
        while (!closed) {
            try {
                in.readFully(header);
            } catch (EOFException e) {
                return;
            }
            int length;
            try {
                length = RelayFrameCodec.streamFrameLength(ByteBuffer.wrap(header));
            } catch (RelayFrameException e) {
                droppedInbound.incrementAndGet();
                log.debug("relay stream framing lost: {}", e.getMessage());
                return;
            }
            byte[] frame = new byte[length];
            in.readFully(frame);
            try {
                onFrame.accept(RelayFrameCodec.decodeFrame(ByteBuffer.wrap(frame)));
            } catch (RelayFrameException e) {
                droppedInbound.incrementAndGet();
                log.debug("dropped relay frame: {}", e.getMessage());
            }
        }
    }

    private void writeLoop() {
        try (OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 << 10)) {
            while (!closed) {
                byte[] frame = outbound.poll(1, TimeUnit.SECONDS);
                if (frame == null) {
                    continue;
                }
                if (frame == CLOSE_MARKER) {
                    return;
                }
                out.write(frame);
                // Write everything already queued before paying for a flush.
                byte[] next;
                while ((next = outbound.poll()) != null && next != CLOSE_MARKER) {
                    out.write(next);
                }
                out.flush();
                if (next == CLOSE_MARKER) {
                    return;
                }
            }
        } catch (IOException e) {
            log.debug("relay connection write failed: {}", e.toString());
            close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean send(RelayFrame frame) {
        return !closed && outbound.offer(RelayFrameCodec.encodeStream(frame));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        outbound.offer(CLOSE_MARKER);
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("closing relay connection: {}", e.toString());
        }
    }
}
