package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayHandshake;
import io.meshwork.protocol.stun.StunDecoder;
import io.meshwork.protocol.stun.StunEncoder;
import io.meshwork.protocol.stun.StunMessage;
import io.meshwork.protocol.stun.TransactionId;
import io.meshwork.relay.testing.TestDevices;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** STUN and handshake answers come out of a budget per source address, refilled on the relay's (injected) clock. */
class SourceAnswerBudgetTest {

    private final TestDevices devices = new TestDevices("budget test CA");
    private final EngineDriver driver = new EngineDriver();

    private RelayEngine relay(long perSecond, long burst, int maxSources) {
        return driver.engine(RelayConfig.builder(devices.anchors()).sourceAnswerRate(perSecond, burst, maxSources));
    }

    private static void stun(RelayEngine relay, InetSocketAddress from) {
        relay.onDatagram(from, ByteBuffer.wrap(StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random()))));
    }

    @Test
    void stunAnswersStopPastTheBudgetAndResumeOnceItRefills() throws Exception {
        RelayEngine relay = relay(5, 10, 1_000);
        InetSocketAddress flooder = new InetSocketAddress("198.51.100.7", 40000);
        for (int port = 0; port < 30; port++) {
            // Another port on the same address shares the address's budget.
            stun(relay, new InetSocketAddress(flooder.getAddress(), 40000 + port));
        }
        assertEquals(10, driver.sent.size(), "the burst is answered, then nothing");
        assertEquals(20, relay.metrics().drops(DropReason.STUN_RATE_LIMITED));
        StunMessage answer = StunDecoder.decode(ByteBuffer.wrap(driver.sent.peek().datagram()));
        assertEquals(flooder, answer.mappedAddress().orElseThrow());

        InetSocketAddress neighbour = new InetSocketAddress("198.51.100.8", 40000);
        stun(relay, neighbour);
        assertEquals(1, driver.sentTo(neighbour), "another address has its own budget");

        driver.sent.clear();
        driver.nanos += Duration.ofSeconds(1).toNanos();
        for (int i = 0; i < 10; i++) {
            stun(relay, flooder);
        }
        assertEquals(5, driver.sentTo(flooder), "a second later five more are answered");
        assertEquals(25, relay.metrics().drops(DropReason.STUN_RATE_LIMITED));
    }

    @Test
    void hellosShareTheBudget() {
        RelayEngine relay = relay(1, 3, 1_000);
        TestDevices.Device device = EngineDriver.enroll(devices, "laptop");
        InetSocketAddress at = new InetSocketAddress("198.51.100.9", 40003);
        byte[] hello = RelayFrameCodec.encodeDatagram(new ClientHello(RelayHandshake.VERSION,
                device.keys().publicKey()), RelayHandshake.MIN_UDP_HELLO_BYTES);
        stun(relay, at);
        for (int i = 0; i < 4; i++) {
            relay.onDatagram(at, ByteBuffer.wrap(hello));
        }
        assertEquals(3, driver.sent.size());
        assertEquals(2, relay.metrics().drops(DropReason.HANDSHAKE_RATE_LIMITED));
        driver.nanos += Duration.ofSeconds(1).toNanos();
        driver.sent.clear();
        relay.onDatagram(at, ByteBuffer.wrap(hello));
        assertInstanceOf(ServerChallenge.class, driver.next(at));
    }

    @Test
    void theBudgetMapForgetsTheLeastRecentSourceWhenFull() {
        RelayEngine relay = relay(1, 1, 2);
        InetSocketAddress first = new InetSocketAddress("198.51.100.1", 1);
        stun(relay, first);
        stun(relay, first);
        assertEquals(1, relay.metrics().drops(DropReason.STUN_RATE_LIMITED));
        stun(relay, new InetSocketAddress("198.51.100.2", 1));
        stun(relay, new InetSocketAddress("198.51.100.3", 1));
        driver.sent.clear();
        // Its bucket was forgotten, so the first source starts with a full one again: the map stays at two entries.
        stun(relay, first);
        assertEquals(1, driver.sentTo(first));
    }
}
