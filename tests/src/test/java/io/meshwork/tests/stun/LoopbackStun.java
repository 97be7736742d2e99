package io.meshwork.tests.stun;

import io.meshwork.protocol.stun.StunAttribute;
import io.meshwork.protocol.stun.StunDecoder;
import io.meshwork.protocol.stun.StunEncoder;
import io.meshwork.protocol.stun.StunMessage;
import io.meshwork.protocol.stun.StunParseException;
import io.meshwork.protocol.stun.TransactionId;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/** Helpers for STUN interop tests on loopback: free port pairs, tool lookup, one-shot Binding exchanges. */
final class LoopbackStun {

    static final InetAddress IP1 = address("127.0.0.1");
    static final InetAddress IP2 = address("127.0.0.2");

    private LoopbackStun() {
    }

    private static InetAddress address(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The path of {@code tool} on PATH, if installed. */
    static Optional<Path> tool(String tool) {
        for (String directory : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(directory, tool);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** A port P such that P and P+1 are free for UDP on both loopback IPs right now. */
    static int freePortPair() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(20_000, 60_000);
            if (free(IP1, port) && free(IP1, port + 1) && free(IP2, port) && free(IP2, port + 1)) {
                return port;
            }
        }
        throw new IllegalStateException("no free UDP port pair on loopback");
    }

    private static boolean free(InetAddress ip, int port) {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(ip, port))) {
            return true;
        } catch (SocketException e) {
            return false;
        }
    }

    /** One answer to a Binding request and the address it came from. */
    record Answer(StunMessage message, InetSocketAddress from) {
    }

    /** Sends one Binding request from {@code channel} and waits up to {@code waitMillis} for the answer. */
    static Optional<Answer> exchange(DatagramChannel channel, InetSocketAddress server, long waitMillis,
            StunAttribute... attributes) throws IOException, StunParseException {
        StunMessage request = StunMessage.bindingRequest(TransactionId.random(), attributes);
        channel.send(ByteBuffer.wrap(StunEncoder.encode(request, null, true)), server);
        try (Selector selector = Selector.open()) {
            channel.configureBlocking(false);
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
            long deadline = System.nanoTime() + waitMillis * 1_000_000;
            ByteBuffer buffer = ByteBuffer.allocate(2048);
            while (System.nanoTime() < deadline) {
                if (selector.select(Math.max(1, (deadline - System.nanoTime()) / 1_000_000)) == 0) {
                    continue;
                }
                selector.selectedKeys().clear();
                buffer.clear();
                InetSocketAddress from = (InetSocketAddress) channel.receive(buffer);
                if (from == null) {
                    continue;
                }
                buffer.flip();
                StunMessage message = StunDecoder.decode(buffer);
                if (message.transactionId().equals(request.transactionId())) {
                    key.cancel();
                    selector.selectNow();
                    return Optional.of(new Answer(message, from));
                }
            }
            key.cancel();
            selector.selectNow();
            return Optional.empty();
        }
    }
}
