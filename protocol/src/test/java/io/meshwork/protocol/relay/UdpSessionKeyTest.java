package io.meshwork.protocol.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.RelayFrame.Sealed;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

class UdpSessionKeyTest {

    private final SecureRandom random = new SecureRandom();
    private final RelayKeyPair relay = RelayKeyPair.generate(random);
    private final RelayKeyPair client = RelayKeyPair.generate(random);
    private final ByteBuffer challenge = ByteBuffer.allocate(RelayHandshake.CHALLENGE_BYTES).put(3, (byte) 9);
    private final RelayFrame frame = new SendPacket(RelayKeyPair.generate(random).publicKey(),
            ByteBuffer.wrap(new byte[] {4, 0, 0, 0, 1, 2, 3}));

    @Test
    void bothEndsDeriveTheSameSession() throws Exception {
        UdpSessionKey atClient = RelayHandshake.clientSessionKey(client, relay.publicKey(), challenge).orElseThrow();
        UdpSessionKey atRelay = RelayHandshake.relaySessionKey(relay, client.publicKey(), challenge).orElseThrow();
        assertEquals(atClient.id(), atRelay.id());
        assertNotEquals(0, atClient.id());
        Sealed sealed = atClient.seal(7, frame);
        Sealed received = (Sealed) RelayFrameCodec.decodeDatagram(
                ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(sealed)));
        assertTrue(atRelay.verify(received));
        assertEquals(7, received.counter());
        RelayFrame inner = RelayFrameCodec.decodeFrame(received.inner().duplicate());
        assertInstanceOf(SendPacket.class, inner);
        assertEquals(((SendPacket) frame).destination(), ((SendPacket) inner).destination());
    }

    @Test
    void anotherChallengeOrClientGivesAnotherSession() {
        UdpSessionKey first = RelayHandshake.clientSessionKey(client, relay.publicKey(), challenge).orElseThrow();
        ByteBuffer otherChallenge = ByteBuffer.allocate(RelayHandshake.CHALLENGE_BYTES);
        UdpSessionKey second = RelayHandshake.clientSessionKey(client, relay.publicKey(), otherChallenge)
                .orElseThrow();
        assertNotEquals(first.id(), second.id());
        assertFalse(second.verify(first.seal(1, frame)));
        RelayKeyPair impostor = RelayKeyPair.generate(random);
        UdpSessionKey guessed = RelayHandshake.clientSessionKey(impostor, relay.publicKey(), challenge).orElseThrow();
        UdpSessionKey atRelay = RelayHandshake.relaySessionKey(relay, client.publicKey(), challenge).orElseThrow();
        Sealed forged = guessed.seal(1, frame);
        assertFalse(atRelay.verify(new Sealed(atRelay.id(), 1, forged.tag(), forged.inner())));
    }

    @Test
    void changedCounterPayloadOrTagFailsToVerify() {
        UdpSessionKey key = RelayHandshake.clientSessionKey(client, relay.publicKey(), challenge).orElseThrow();
        Sealed sealed = key.seal(42, frame);
        assertTrue(key.verify(sealed));
        assertFalse(key.verify(new Sealed(sealed.sessionId(), 43, sealed.tag(), sealed.inner())));
        assertFalse(key.verify(new Sealed(sealed.sessionId() + 1, 42, sealed.tag(), sealed.inner())));
        byte[] inner = new byte[sealed.inner().remaining()];
        sealed.inner().duplicate().get(inner);
        inner[inner.length - 1] ^= 1;
        assertFalse(key.verify(new Sealed(sealed.sessionId(), 42, sealed.tag(), ByteBuffer.wrap(inner))));
        byte[] tag = new byte[UdpSessionKey.TAG_BYTES];
        sealed.tag().duplicate().get(tag);
        tag[0] ^= (byte) 0x80;
        assertFalse(key.verify(new Sealed(sealed.sessionId(), 42, ByteBuffer.wrap(tag), sealed.inner())));
    }

    @Test
    void lowOrderRelayKeyGivesNoSession() {
        assertTrue(RelayHandshake.clientSessionKey(client, RelayKey.of(new byte[32]), challenge).isEmpty());
    }
}
