package io.meshwork.protocol.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.probe.ProbeMessage.CallMeMaybe;
import io.meshwork.protocol.probe.ProbeMessage.Ping;
import io.meshwork.protocol.probe.ProbeMessage.Pong;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProbeCodecTest {

    private final Key alice = Key.generatePrivate();
    private final Key bob = Key.generatePrivate();
    private final ProbeCodec aliceCodec = new ProbeCodec(alice);
    private final ProbeCodec bobCodec = new ProbeCodec(bob);
    private final byte[] txid = "0123456789ab".getBytes();

    @Test
    void everyMessageRoundTripsBetweenPeers() throws Exception {
        List<ProbeMessage> messages = List.of(
                new Ping(txid),
                new Pong(txid, new InetSocketAddress("198.51.100.7", 40112)),
                new Pong(txid, new InetSocketAddress("2001:db8::1", 51820)),
                new Pong(txid, null),
                new CallMeMaybe(List.of(new InetSocketAddress("10.0.0.2", 51820),
                        new InetSocketAddress("203.0.113.9", 61000)), true),
                new CallMeMaybe(List.of(), false),
                new CallMeMaybe(List.of(new InetSocketAddress("203.0.113.9", 61000)), false, true),
                new CallMeMaybe(List.of(), true, true));
        for (ProbeMessage message : messages) {
            ByteBuffer datagram = aliceCodec.seal(bob.publicKey(), message);
            assertEquals(DatagramKind.PROBE, DatagramKind.classify(datagram));
            ProbeCodec.Opened opened = bobCodec.open(datagram, key -> key.equals(alice.publicKey()));
            assertEquals(alice.publicKey(), opened.sender());
            assertEquals(message, opened.message());
        }
    }

    @Test
    void aReplayedProbeIsDroppedAndAFreshOneStillOpens() throws Exception {
        ByteBuffer datagram = aliceCodec.seal(bob.publicKey(), new Ping(txid));
        bobCodec.open(datagram.duplicate(), key -> true);
        ProbeException replay = assertThrows(ProbeException.class, () -> bobCodec.open(datagram.duplicate(),
                key -> true));
        assertEquals(ProbeException.Reason.REPLAYED, replay.reason());
        ProbeCodec.Opened next = bobCodec.open(aliceCodec.seal(bob.publicKey(), new Ping(txid)), key -> true);
        assertEquals(new Ping(txid), next.message());
    }

    @Test
    void aProbeSentLongAgoIsStale() {
        Instant then = Instant.parse("2026-12-07T10:00:00Z");
        ProbeCodec past = new ProbeCodec(alice, Clock.fixed(then, ZoneOffset.UTC), Duration.ofMinutes(5));
        ProbeCodec present = new ProbeCodec(bob, Clock.fixed(then.plus(Duration.ofMinutes(6)), ZoneOffset.UTC),
                Duration.ofMinutes(5));
        ByteBuffer datagram = past.seal(bob.publicKey(), new Ping(txid));
        ProbeException e = assertThrows(ProbeException.class, () -> present.open(datagram, key -> true));
        assertEquals(ProbeException.Reason.STALE, e.reason());
    }

    @Test
    void countersKeepGrowingWhenTheClockStandsStill() throws Exception {
        Clock frozen = Clock.fixed(Instant.parse("2026-12-07T10:00:00Z"), ZoneOffset.UTC);
        ProbeCodec sender = new ProbeCodec(alice, frozen, Duration.ofMinutes(5));
        ProbeCodec receiver = new ProbeCodec(bob, frozen, Duration.ofMinutes(5));
        for (int i = 0; i < 3; i++) {
            assertEquals(new Ping(txid), receiver.open(sender.seal(bob.publicKey(), new Ping(txid)), key -> true)
                    .message());
        }
    }

    @Test
    void unknownSendersAreRefusedBeforeDecryption() {
        ByteBuffer datagram = aliceCodec.seal(bob.publicKey(), new Ping(txid));
        ProbeException e = assertThrows(ProbeException.class, () -> bobCodec.open(datagram, key -> false));
        assertEquals(ProbeException.Reason.UNKNOWN_SENDER, e.reason());
    }

    @Test
    void aProbeSealedForAnotherNodeIsNotAuthentic() {
        Key carol = Key.generatePrivate();
        ByteBuffer datagram = aliceCodec.seal(carol.publicKey(), new Ping(txid));
        ProbeException e = assertThrows(ProbeException.class, () -> bobCodec.open(datagram, key -> true));
        assertEquals(ProbeException.Reason.NOT_AUTHENTIC, e.reason());
    }

    @Test
    void anyFlippedBitIsDetected() {
        ByteBuffer sealed = aliceCodec.seal(bob.publicKey(), new Pong(txid, new InetSocketAddress("192.0.2.1", 9)));
        for (int i = 0; i < sealed.remaining() * 8; i++) {
            ByteBuffer copy = ByteBuffer.allocate(sealed.remaining()).put(sealed.duplicate()).flip();
            copy.put(i / 8, (byte) (copy.get(i / 8) ^ (1 << (i % 8))));
            assertThrows(ProbeException.class, () -> bobCodec.open(copy, key -> true), "bit " + i);
        }
    }

    @Test
    void badLengthsAndHeadersAreRefusedWithTheirReason() {
        assertEquals(ProbeException.Reason.BAD_LENGTH, reason(ByteBuffer.wrap(DatagramKind.PROBE_MAGIC)));
        assertEquals(ProbeException.Reason.BAD_LENGTH, reason(ByteBuffer.allocate(ProbeCodec.MAX_DATAGRAM + 1)));
        ByteBuffer wrongVersion = aliceCodec.seal(bob.publicKey(), new Ping(txid));
        wrongVersion.put(DatagramKind.PROBE_MAGIC.length, (byte) 9);
        assertEquals(ProbeException.Reason.BAD_HEADER, reason(wrongVersion));
        ByteBuffer noMagic = aliceCodec.seal(bob.publicKey(), new Ping(txid));
        noMagic.put(1, (byte) 'X');
        assertEquals(ProbeException.Reason.BAD_HEADER, reason(noMagic));
    }

    @Test
    void randomDatagramsNeverEscapeAsUncheckedExceptions() {
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = new byte[random.nextInt(200)];
            random.nextBytes(bytes);
            if (random.nextBoolean() && bytes.length >= DatagramKind.PROBE_MAGIC.length) {
                System.arraycopy(DatagramKind.PROBE_MAGIC, 0, bytes, 0, DatagramKind.PROBE_MAGIC.length);
            }
            assertThrows(ProbeException.class, () -> bobCodec.open(ByteBuffer.wrap(bytes), key -> true));
        }
    }

    @Test
    void tooManyEndpointsAreRefusedWhenBuilt() {
        List<InetSocketAddress> many = java.util.Collections.nCopies(CallMeMaybe.MAX_ENDPOINTS + 1,
                new InetSocketAddress("192.0.2.1", 1));
        assertThrows(IllegalArgumentException.class, () -> new CallMeMaybe(many, false));
    }

    private ProbeException.Reason reason(ByteBuffer datagram) {
        return assertThrows(ProbeException.class, () -> bobCodec.open(datagram, key -> true)).reason();
    }
}
