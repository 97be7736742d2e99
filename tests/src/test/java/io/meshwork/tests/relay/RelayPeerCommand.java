package io.meshwork.tests.relay;

import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayClient;
import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayCredential;
import io.meshwork.node.relay.RelayListener;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.RelayKeyPair;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A minimal node for lab tests: connects to a relay with a device credential and exchanges numbered datagrams
 * with one peer through it. Prints {@code connected transport=T observed=IP:PORT}, then
 * {@code received N from PEER} and exits 0 once it has both received {@code --expect} distinct datagrams and
 * kept sending for a grace period (so the peer can finish too); exits 1 on timeout.
 */
@Command(name = "relay-peer", mixinStandardHelpOptions = true)
public final class RelayPeerCommand implements Callable<Integer> {

    @Option(names = "--relay", required = true, description = "Relay IP:PORT (UDP and TCP on the same port).")
    String relay;

    @Option(names = "--key", required = true, description = "File with the base64 X25519 private key.")
    Path keyFile;

    @Option(names = "--cert", required = true, description = "File with the device certificate (PEM).")
    Path certificateFile;

    @Option(names = "--peer", required = true, description = "The peer's base64 public key.")
    String peer;

    @Option(names = "--expect", defaultValue = "20")
    int expect;

    @Option(names = "--timeout", defaultValue = "40", description = "Seconds before giving up.")
    int timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        int colon = relay.lastIndexOf(':');
        InetSocketAddress relayAddress = new InetSocketAddress(relay.substring(0, colon),
                Integer.parseInt(relay.substring(colon + 1)));
        RelayKeyPair keys = RelayKeyPair.fromPrivateKey(Base64.getDecoder().decode(Files.readString(keyFile).strip()));
        byte[] certificate = CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(certificateFile))).getEncoded();
        RelayKey peerKey = RelayKey.fromBase64(peer);
        Set<String> received = ConcurrentHashMap.newKeySet();
        RelayListener listener = new RelayListener() {
            @Override
            public void onPacket(RelayKey source, ByteBuffer payload) {
                if (source.equals(peerKey)) {
                    received.add(StandardCharsets.UTF_8.decode(payload).toString());
                }
            }

            @Override
            public void onStatus(RelayStatus status) {
                if (status.connected() && status.observedAddress().isPresent()) {
                    System.out.println("connected transport=" + status.transport().orElseThrow() + " observed="
                            + status.observedAddress().get().getAddress().getHostAddress() + ":"
                            + status.observedAddress().get().getPort());
                }
            }
        };
        RelayClientConfig config = RelayClientConfig.defaults().withUdpAnswerTimeout(Duration.ofSeconds(2));
        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        try (NettyUdpTransport socket = NettyUdpTransport.bind(new InetSocketAddress(0));
                RelayClient client = RelayClient.start(RelayAddress.of(relayAddress, relayAddress),
                        new RelayCredential(keys, certificate), socket, listener, config)) {
            long doneAt = 0;
            for (int sequence = 0; System.nanoTime() < deadline; sequence++) {
                client.sendPacket(peerKey, ByteBuffer.wrap(("datagram-" + sequence).getBytes(StandardCharsets.UTF_8)));
                Thread.sleep(50);
                if (doneAt == 0 && received.size() >= expect) {
                    doneAt = System.nanoTime();
                }
                if (doneAt != 0 && System.nanoTime() - doneAt > Duration.ofSeconds(3).toNanos()) {
                    System.out.println("received " + received.size() + " from " + peer);
                    return 0;
                }
            }
            System.out.println("timed out with " + received.size() + " received; status " + client.status());
            return 1;
        }
    }
}
