package io.meshwork.tests.stun;

import static io.meshwork.tests.stun.LoopbackStun.IP1;
import static io.meshwork.tests.stun.LoopbackStun.IP2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.meshwork.node.netcheck.NatProber;
import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.protocol.nat.ClassicNatType;
import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.stun.StunAttribute;
import io.meshwork.protocol.stun.StunClass;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * meshwork's STUN client side against a real coturn in RFC 5780 mode (two loopback IPs, alternate port
 * P+1): our codec parses its answers, including OTHER-ADDRESS and CHANGE-REQUEST replies, and the
 * prober classifies loopback as no NAT.
 */
class CoturnInteropTest {

    @TempDir
    static Path directory;

    private static Process coturn;
    private static int port;

    @BeforeAll
    static void startCoturn() throws Exception {
        Optional<Path> turnserver = LoopbackStun.tool("turnserver");
        assumeTrue(turnserver.isPresent(), "turnserver (Debian package coturn) is not installed");
        port = LoopbackStun.freePortPair();
        Path userdb = directory.resolve("turndb");
        Files.createFile(userdb);
        coturn = new ProcessBuilder(turnserver.get().toString(), "-n", "--stun-only", "--no-tls", "--no-dtls",
                "--no-cli", "-L", IP1.getHostAddress(), "-L", IP2.getHostAddress(),
                "--listening-port", Integer.toString(port),
                "--userdb=" + userdb, "--pidfile=" + directory.resolve("turnserver.pid"),
                "--log-file=" + directory.resolve("turnserver.log"), "--simple-log", "--no-stdout-log")
                .redirectErrorStream(true)
                .redirectOutput(directory.resolve("turnserver.out").toFile())
                .start();
        awaitReady();
    }

    private static void awaitReady() throws Exception {
        try (DatagramChannel channel = DatagramChannel.open().bind(new InetSocketAddress(IP1, 0))) {
            for (int attempt = 0; attempt < 50; attempt++) {
                if (!coturn.isAlive()) {
                    throw new IllegalStateException("turnserver exited: " + Files.readString(directory.resolve("turnserver.out")));
                }
                if (LoopbackStun.exchange(channel, primary(), 200).isPresent()) {
                    return;
                }
            }
        }
        throw new IllegalStateException("turnserver did not answer on " + primary());
    }

    @AfterAll
    static void stopCoturn() throws InterruptedException {
        if (coturn != null) {
            coturn.destroy();
            if (!coturn.waitFor(5, TimeUnit.SECONDS)) {
                coturn.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static InetSocketAddress primary() {
        return new InetSocketAddress(IP1, port);
    }

    private static LoopbackStun.Answer ask(DatagramChannel channel, StunAttribute... attributes) throws Exception {
        return LoopbackStun.exchange(channel, primary(), 2_000, attributes)
                .orElseThrow(() -> new AssertionError("coturn did not answer"));
    }

    @Test
    void bindingResponseCarriesRfc5780Attributes() throws Exception {
        try (DatagramChannel channel = DatagramChannel.open().bind(new InetSocketAddress(IP1, 0))) {
            LoopbackStun.Answer answer = ask(channel);
            assertEquals(StunClass.SUCCESS_RESPONSE, answer.message().messageClass());
            assertEquals(primary(), answer.from());
            assertEquals(List.of(), answer.message().unknownComprehensionRequired());
            assertEquals(Optional.of(channel.getLocalAddress()), answer.message().mappedAddress().map(a -> (Object) a));
            assertTrue(answer.message().attribute(StunAttribute.XorMappedAddress.class).isPresent());
            assertEquals(Optional.of(primary()), answer.message().responseOrigin());
            assertEquals(Optional.of(new InetSocketAddress(IP2, port + 1)), answer.message().otherAddress());
            assertTrue(answer.message().attribute(StunAttribute.Fingerprint.class).isPresent()
                    || answer.message().attribute(StunAttribute.Software.class).isPresent());
        }
    }

    @Test
    void changeRequestsAreAnsweredFromTheAlternateAddresses() throws Exception {
        try (DatagramChannel channel = DatagramChannel.open().bind(new InetSocketAddress(IP1, 0))) {
            LoopbackStun.Answer both = ask(channel, new StunAttribute.ChangeRequest(true, true));
            assertEquals(new InetSocketAddress(IP2, port + 1), both.from());
            assertEquals(Optional.of(both.from()), both.message().responseOrigin());
            LoopbackStun.Answer portOnly = ask(channel, new StunAttribute.ChangeRequest(false, true));
            assertEquals(new InetSocketAddress(IP1, port + 1), portOnly.from());
            LoopbackStun.Answer ipOnly = ask(channel, new StunAttribute.ChangeRequest(true, false));
            assertEquals(new InetSocketAddress(IP2, port), ipOnly.from());
        }
    }

    @Test
    void proberClassifiesLoopbackAsNoNat() throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (NettyUdpTransport transport = NettyUdpTransport.bind(new InetSocketAddress(IP1, 0));
             NatProber prober = new NatProber(transport, scheduler)) {
            NetcheckResult result = prober.probe(List.of(primary()), Duration.ofSeconds(3)).get(15, TimeUnit.SECONDS);
            assertTrue(result.report().udpReachable());
            assertTrue(result.report().noNat());
            assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, result.report().mapping());
            assertEquals(FilteringBehavior.ENDPOINT_INDEPENDENT, result.report().filtering());
            assertEquals(ClassicNatType.OPEN, result.report().classic());
            assertEquals(Optional.of(new InetSocketAddress(IP2, port + 1)), result.servers().get(0).otherAddress());
        } finally {
            scheduler.shutdownNow();
        }
    }
}
