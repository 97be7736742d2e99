package io.meshwork.relay.bench;

import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayClient;
import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayListener;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.relay.metrics.RelayMetrics;
import io.meshwork.relay.server.RelayConfig;
import io.meshwork.relay.server.RelayServer;
import io.meshwork.relay.testing.TestDevices;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Relay forwarding throughput on loopback, for UDP and TCP clients, each beside the direct path measured the same
 * way in the same run: one sender pushes WireGuard-sized payloads for a fixed time, and the rate is what the
 * receiver got. Run through {@code bench/relay-throughput.sh}; arguments: seconds per case, payload bytes.
 */
public final class RelayThroughputBench {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int WINDOW_FRAMES = 256;
    private static final int STALL_MILLIS = 20;

    private RelayThroughputBench() {}

    public static void main(String[] args) throws Exception {
        Duration duration = Duration.ofSeconds(args.length > 0 ? Integer.parseInt(args[0]) : 5);
        int payloadBytes = args.length > 1 ? Integer.parseInt(args[1]) : 1280;
        System.out.printf("relay throughput on loopback: %d s per case, %d-byte payloads, %d cores, java %s%n",
                duration.toSeconds(), payloadBytes, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"));
        System.out.printf("%-22s %12s %10s %12s%n", "case", "frames/s", "Mbit/s", "sent/s");
        print("udp direct", directUdp(duration, payloadBytes), duration, payloadBytes);
        print("udp via relay", viaRelay(duration, payloadBytes, false), duration, payloadBytes);
        print("tcp direct", directTcp(duration, payloadBytes), duration, payloadBytes);
        print("tcp via relay", viaRelay(duration, payloadBytes, true), duration, payloadBytes);
    }

    /** Frames sent and received in one case. */
    private record Result(long sent, long received) {
    }

    private static void print(String name, Result result, Duration duration, int payloadBytes) {
        double seconds = duration.toNanos() / 1e9;
        double framesPerSecond = result.received() / seconds;
        System.out.printf("%-22s %12.0f %10.1f %12.0f%n", name, framesPerSecond,
                framesPerSecond * payloadBytes * 8 / 1e6, result.sent() / seconds);
    }

    private static Result directUdp(Duration duration, int payloadBytes) {
        AtomicLong received = new AtomicLong();
        try (NettyUdpTransport sender = NettyUdpTransport.bind(new InetSocketAddress(LOOPBACK, 0));
                NettyUdpTransport receiver = NettyUdpTransport.bind(new InetSocketAddress(LOOPBACK, 0))) {
            // The same framing a relayed datagram has, so both cases classify and copy alike.
            receiver.register(DatagramKind.RELAY, (datagram, source) -> received.incrementAndGet());
            byte[] datagram = new byte[RelayFrameCodec.DATAGRAM_HEADER_BYTES + 1 + RelayKey.LENGTH + payloadBytes];
            System.arraycopy(DatagramKind.RELAY_MAGIC, 0, datagram, 0, DatagramKind.RELAY_MAGIC.length);
            long sent = pump(duration, received, () -> {
                sender.send(ByteBuffer.wrap(datagram), receiver.localAddress());
                return true;
            });
            settle();
            return new Result(sent, received.get());
        }
    }

    private static Result viaRelay(Duration duration, int payloadBytes, boolean tcp) throws Exception {
        TestDevices devices = new TestDevices("bench CA");
        RelayConfig config = RelayConfig.builder(devices.anchors())
                .udp(new InetSocketAddress(LOOPBACK, 0))
                .tcp(new InetSocketAddress(LOOPBACK, 0))
                .clientRateLimit(10L << 30, 64L << 20)
                .build();
        AtomicLong received = new AtomicLong();
        RelayListener counting = (source, payload) -> received.incrementAndGet();
        RelayListener ignoring = (source, payload) -> { };
        try (RelayServer relay = RelayServer.start(config, new RelayMetrics());
                NettyUdpTransport senderSocket = NettyUdpTransport.bind(new InetSocketAddress(LOOPBACK, 0));
                NettyUdpTransport receiverSocket = NettyUdpTransport.bind(new InetSocketAddress(LOOPBACK, 0))) {
            RelayAddress address = tcp ? RelayAddress.tcpOnly(relay.tcpAddress().orElseThrow())
                    : RelayAddress.udpOnly(relay.udpAddress().orElseThrow());
            TestDevices.Device senderDevice = devices.enroll("sender");
            TestDevices.Device receiverDevice = devices.enroll("receiver");
            try (RelayClient sender = RelayClient.start(address, senderDevice.credential(), senderSocket, ignoring,
                            RelayClientConfig.defaults());
                    RelayClient receiver = RelayClient.start(address, receiverDevice.credential(), receiverSocket,
                            counting, RelayClientConfig.defaults())) {
                awaitConnected(sender);
                awaitConnected(receiver);
                RelayKey destination = receiver.publicKey();
                ByteBuffer payload = ByteBuffer.allocate(payloadBytes);
                long sent = pump(duration, received, () -> sender.sendPacket(destination, payload.duplicate()));
                settle();
                return new Result(sent, received.get());
            }
        }
    }

    private static Result directTcp(Duration duration, int payloadBytes) throws Exception {
        AtomicLong received = new AtomicLong();
        try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK)) {
            Thread reader = new Thread(() -> {
                try (Socket socket = server.accept();
                        DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 << 10))) {
                    byte[] frame = new byte[RelayFrameCodec.MAX_FRAME_BYTES];
                    while (true) {
                        int length = in.readUnsignedShort();
                        in.readFully(frame, 0, length);
                        received.incrementAndGet();
                    }
                } catch (EOFException done) {
                    // The sender closed: the case is over.
                } catch (IOException e) {
                    System.err.println("direct tcp reader: " + e);
                }
            });
            reader.start();
            long sent;
            try (Socket socket = new Socket(LOOPBACK, server.getLocalPort());
                    DataOutputStream out = new DataOutputStream(
                            new BufferedOutputStream(socket.getOutputStream(), 64 << 10))) {
                socket.setTcpNoDelay(true);
                byte[] frame = new byte[1 + RelayKey.LENGTH + payloadBytes];
                sent = pump(duration, null, () -> {
                    try {
                        out.writeShort(frame.length);
                        out.write(frame);
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                });
                out.flush();
                settle();
            }
            reader.join(2_000);
            return new Result(sent, received.get());
        }
    }

    /**
     * Calls {@code send} as fast as it accepts for {@code duration}; a refused send is retried after a yield.
     * With a {@code received} counter, at most {@value #WINDOW_FRAMES} frames are kept in flight, as a
     * congestion-controlled sender (WireGuard's inner TCP) would: an open-loop UDP flood measures only how
     * queues overflow. A window stalled for {@value #STALL_MILLIS} ms (frames lost) is let go.
     */
    private static long pump(Duration duration, AtomicLong received, Sender send) {
        long deadline = System.nanoTime() + duration.toNanos();
        long sent = 0;
        long lost = 0;
        long lastReceived = 0;
        long lastProgress = System.nanoTime();
        while (true) {
            long now = System.nanoTime();
            if (now > deadline) {
                return sent;
            }
            if (received != null) {
                long got = received.get();
                if (got != lastReceived) {
                    lastReceived = got;
                    lastProgress = now;
                }
                if (sent - lost - got >= WINDOW_FRAMES) {
                    if (now - lastProgress < STALL_MILLIS * 1_000_000L) {
                        Thread.onSpinWait();
                        continue;
                    }
                    lost = sent - got;
                    lastProgress = now;
                }
            }
            if (send.send()) {
                sent++;
            } else {
                Thread.yield();
            }
        }
    }

    @FunctionalInterface
    private interface Sender {
        boolean send();
    }

    private static void awaitConnected(RelayClient client) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!client.status().connected()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("relay client did not connect: " + client.status());
            }
            Thread.sleep(10);
        }
    }

    /** Lets frames in flight arrive before counting. */
    private static void settle() {
        try {
            Thread.sleep(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
