package io.meshwork.protocol.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HexFormat;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;

class HandshakeTest {

    private final LocalIdentity alice = new LocalIdentity(Key.generatePrivate());
    private final LocalIdentity bob = new LocalIdentity(Key.generatePrivate());

    @Test
    void noiseConstantsMatchTheReferenceImplementations() {
        // HASH("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s") and HASH(that || IDENTIFIER), as hard-coded in the
        // reference implementations' initial chain key and hash.
        assertEquals("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36",
                HexFormat.of().formatHex(Noise.INITIAL_CHAINING_KEY));
        assertEquals("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3",
                HexFormat.of().formatHex(Noise.INITIAL_HASH));
    }

    @Test
    void fullHandshakeGivesMatchingTransportKeys() throws Exception {
        Handshake aliceSide = new Handshake(alice, bob.publicKey());
        Handshake bobSide = new Handshake(bob, alice.publicKey());
        Key psk = Key.generatePreshared();
        aliceSide.setPresharedKey(psk);
        bobSide.setPresharedKey(psk);

        byte[] initiation = aliceSide.createInitiation(111, Instant.now());
        Macs.add(initiation, aliceSide, null);
        assertEquals(Messages.INITIATION_SIZE, initiation.length);
        assertTrue(Macs.mac1Valid(bob, initiation));
        assertFalse(Macs.mac1Valid(alice, initiation));

        Handshake.ConsumedInitiation consumed = Handshake.consumeInitiation(bob, initiation);
        assertEquals(alice.publicKey(), consumed.initiatorStatic());
        assertEquals(111, consumed.senderIndex());
        bobSide.acceptInitiation(consumed);
        Handshake.Response response = bobSide.createResponse(222, 0);
        Macs.add(response.message(), bobSide, null);
        assertEquals(Messages.RESPONSE_SIZE, response.message().length);
        assertTrue(Macs.mac1Valid(alice, response.message()));

        Keypair aliceKeys = aliceSide.consumeResponse(response.message(), 0);
        Keypair bobKeys = response.keypair();
        assertEquals(222, aliceKeys.remoteIndex());
        assertEquals(111, bobKeys.remoteIndex());
        assertTrue(aliceKeys.isInitiator());
        assertArrayEquals(aliceKeys.sendKey().getEncoded(), bobKeys.receiveKey().getEncoded());
        assertArrayEquals(aliceKeys.receiveKey().getEncoded(), bobKeys.sendKey().getEncoded());

        ByteBuffer sealed = ByteBuffer.allocate(100);
        ChaChaPoly.seal(aliceKeys.sendKey(), 7, ByteBuffer.wrap("hello".getBytes()), sealed, null);
        sealed.flip();
        ByteBuffer opened = ByteBuffer.allocate(100);
        assertEquals(5, ChaChaPoly.open(bobKeys.receiveKey(), 7, sealed, opened, null));
        assertEquals("hello", new String(opened.array(), 0, 5));
    }

    @Test
    void mismatchedPresharedKeysFailTheResponse() throws Exception {
        Handshake aliceSide = new Handshake(alice, bob.publicKey());
        Handshake bobSide = new Handshake(bob, alice.publicKey());
        bobSide.setPresharedKey(Key.generatePreshared());
        bobSide.acceptInitiation(Handshake.consumeInitiation(bob, aliceSide.createInitiation(1, Instant.now())));
        byte[] response = bobSide.createResponse(2, 0).message();
        WireGuardException error = assertThrows(WireGuardException.class, () -> aliceSide.consumeResponse(response, 0));
        assertEquals(WireGuardException.Reason.DECRYPTION_FAILED, error.reason());
    }

    @Test
    void replayedInitiationIsRejectedByTimestamp() throws Exception {
        Handshake aliceSide = new Handshake(alice, bob.publicKey());
        Handshake bobSide = new Handshake(bob, alice.publicKey());
        byte[] initiation = aliceSide.createInitiation(1, Instant.parse("2026-11-25T00:00:00Z"));
        bobSide.acceptInitiation(Handshake.consumeInitiation(bob, initiation));
        WireGuardException replay = assertThrows(WireGuardException.class,
                () -> bobSide.acceptInitiation(Handshake.consumeInitiation(bob, initiation)));
        assertEquals(WireGuardException.Reason.REPLAYED_TIMESTAMP, replay.reason());
        byte[] later = aliceSide.createInitiation(2, Instant.parse("2026-11-25T00:00:01Z"));
        bobSide.acceptInitiation(Handshake.consumeInitiation(bob, later));
    }

    @Test
    void initiationForSomeoneElseOrTamperedFailsToDecrypt() throws Exception {
        Handshake aliceSide = new Handshake(alice, bob.publicKey());
        byte[] initiation = aliceSide.createInitiation(1, Instant.now());
        LocalIdentity eve = new LocalIdentity(Key.generatePrivate());
        assertEquals(WireGuardException.Reason.DECRYPTION_FAILED,
                assertThrows(WireGuardException.class, () -> Handshake.consumeInitiation(eve, initiation)).reason());
        initiation[50] ^= 1;
        assertEquals(WireGuardException.Reason.DECRYPTION_FAILED,
                assertThrows(WireGuardException.class, () -> Handshake.consumeInitiation(bob, initiation)).reason());
    }

    @Test
    void lowOrderPublicKeyIsRefused() {
        assertEquals(WireGuardException.Reason.INVALID_PUBLIC_KEY,
                assertThrows(WireGuardException.class, () -> new Handshake(alice, Key.zero())).reason());
    }

    @Test
    void cookieReplyRoundTripEnablesMac2() throws Exception {
        Handshake aliceSide = new Handshake(alice, bob.publicKey());
        CookieJar jar = new CookieJar(bob.publicKey());
        CookieChecker checker = new CookieChecker(bob);
        InetSocketAddress aliceAddress = new InetSocketAddress("192.0.2.1", 51820);

        byte[] first = aliceSide.createInitiation(5, Instant.now());
        jar.sent(Macs.add(first, aliceSide, jar.cookie(0)));
        assertFalse(checker.mac2Valid(first, aliceAddress, 0));
        byte[] reply = checker.createReply(first, aliceAddress, 0);
        assertEquals(Messages.COOKIE_REPLY_SIZE, reply.length);
        assertEquals(5, Messages.receiverIndex(reply));
        jar.consumeReply(reply, 0);

        byte[] second = aliceSide.createInitiation(6, Instant.now());
        Macs.add(second, aliceSide, jar.cookie(1));
        assertTrue(checker.mac2Valid(second, aliceAddress, 1));
        assertFalse(checker.mac2Valid(second, new InetSocketAddress("192.0.2.1", 51821), 1),
                "the cookie is bound to the source port");
        assertFalse(checker.mac2Valid(second, aliceAddress, CookieChecker.SECRET_LIFETIME_NANOS + 1),
                "the secret rotates");
        assertEquals(null, jar.cookie(CookieJar.COOKIE_LIFETIME_NANOS), "stale cookies are not used");

        reply[40] ^= 1;
        assertEquals(WireGuardException.Reason.DECRYPTION_FAILED,
                assertThrows(WireGuardException.class, () -> jar.consumeReply(reply, 0)).reason());
    }

    @Test
    void xchachaMatchesTheDraftTestVector() {
        // draft-irtf-cfrg-xchacha-03 §2.2.1 HChaCha20 test vector.
        byte[] key = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        byte[] nonce = HexFormat.of().parseHex("000000090000004a0000000031415927");
        assertEquals("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc",
                HexFormat.of().formatHex(XChaChaPoly.hChaCha20(key, nonce)));
    }

    @Test
    void tamperedTransportPacketFailsAndTheGenuineOneStillOpens() throws Exception {
        byte[] keyBytes = new byte[32];
        keyBytes[0] = 9;
        var key = ChaChaPoly.key(keyBytes);
        ByteBuffer sealed = ByteBuffer.allocate(64);
        ChaChaPoly.seal(key, 3, ByteBuffer.wrap(new byte[20]), sealed, null);
        byte[] genuine = java.util.Arrays.copyOf(sealed.array(), sealed.position());
        byte[] forged = genuine.clone();
        forged[0] ^= 1;
        assertThrows(AEADBadTagException.class,
                () -> ChaChaPoly.open(key, 3, ByteBuffer.wrap(forged), ByteBuffer.allocate(64), null));
        // Same key and counter again right after: JDK 17's JCE would refuse without the re-init workaround.
        assertEquals(20, ChaChaPoly.open(key, 3, ByteBuffer.wrap(genuine), ByteBuffer.allocate(64), null));
        assertEquals(20, ChaChaPoly.open(key, 3, ByteBuffer.wrap(genuine), ByteBuffer.allocate(64), null));
    }
}
