package io.meshwork.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.stun.StunAttribute;
import io.meshwork.protocol.stun.StunDecoder;
import io.meshwork.protocol.stun.StunEncoder;
import io.meshwork.protocol.stun.StunMessage;
import io.meshwork.protocol.stun.StunResponder;
import io.meshwork.protocol.stun.TransactionId;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The real STUN responder on virtual sockets: mapped addresses as the NAT made them, RFC 5780 changes. */
class SimStunServerTest {

    private record Answer(StunMessage message, InetSocketAddress from) {
    }

    private final DiscreteEventScheduler scheduler = new DiscreteEventScheduler(5);
    private final VirtualNetwork network = new VirtualNetwork(scheduler);
    private final SimStunServer server = SimStunServer.rfc5780(network, "stun", "203.0.113.10", "203.0.113.11",
            SimStunServer.DEFAULT_PORT);
    private final Site home = network.addNatSite("home", NatPreset.FULL_CONE.homeBehavior(), network.internet());
    private final VirtualTransport client = home.addHost("client").bind(41641);
    private final List<Answer> answers = new ArrayList<>();

    SimStunServerTest() {
        client.register(DatagramKind.STUN, (datagram, sender) -> {
            try {
                answers.add(new Answer(StunDecoder.decode(datagram), sender));
            } catch (io.meshwork.protocol.stun.StunParseException e) {
                throw new AssertionError(e);
            }
        });
    }

    private Answer ask(StunAttribute... attributes) {
        StunMessage request = StunMessage.bindingRequest(TransactionId.random(), attributes);
        client.send(ByteBuffer.wrap(StunEncoder.encode(request, null, true)), server.primary());
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(1, answers.size(), "one answer");
        return answers.remove(0);
    }

    @Test
    void theMappedAddressIsTheNatsPublicEndpoint() {
        Answer answer = ask();
        assertEquals(Optional.of(new InetSocketAddress(home.requireNat().publicIp(), 41641)),
                answer.message().mappedAddress());
        assertEquals(server.primary(), answer.from());
        assertEquals(Optional.of(new InetSocketAddress(server.alternateIp().orElseThrow(),
                SimStunServer.DEFAULT_PORT + 1)), answer.message().otherAddress());
        assertEquals(1, server.answered());
    }

    @Test
    void changeRequestsAreAnsweredFromTheAlternateAddressAndPort() {
        Answer both = ask(new StunAttribute.ChangeRequest(true, true));
        assertEquals(new InetSocketAddress(server.alternateIp().orElseThrow(), SimStunServer.DEFAULT_PORT + 1),
                both.from());
        Answer port = ask(new StunAttribute.ChangeRequest(false, true));
        assertEquals(new InetSocketAddress(server.primary().getAddress(), SimStunServer.DEFAULT_PORT + 1),
                port.from());
    }

    @Test
    void malformedDatagramsAreDroppedAndCounted() {
        client.send(ByteBuffer.wrap(new byte[] {0, 1, 0, 0}), server.primary());
        scheduler.advance(Duration.ofSeconds(1));
        assertTrue(answers.isEmpty());
        assertEquals(1, server.dropped(StunResponder.DropReason.MALFORMED));
    }
}
