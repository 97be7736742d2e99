package io.meshwork.protocol.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Known answers: the BLAKE2s functions against values computed with Python's hashlib and hmac (an independent
 * implementation), and golden bytes of every handshake message from fixed keys, so any change to the wire format
 * shows. Interoperability with wireguard-go is proven by the lab test.
 */
class KnownAnswerTest {

    private static final HexFormat HEX = HexFormat.of();

    private static byte[] counting(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) i;
        }
        return bytes;
    }

    @Test
    void blake2sHashMacAndKdfMatchAnIndependentImplementation() {
        assertEquals("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
                HEX.formatHex(Blake2s.hash("abc".getBytes(StandardCharsets.US_ASCII))));
        byte[] message = "message".getBytes(StandardCharsets.US_ASCII);
        assertEquals("37d0934cac1b83cf742574ea32dd9481", HEX.formatHex(Blake2s.mac(counting(16), message, 0,
                message.length)));
        byte[][] kdf = Blake2s.kdf(3, counting(32), "meshwork kdf test input".getBytes(StandardCharsets.US_ASCII));
        assertEquals("76f7085aff60273eb6b161a75f056b1fc10a574afd57728f3e194287860e354e", HEX.formatHex(kdf[0]));
        assertEquals("aea3a1a0fb37ce653d6dcb5e71805aeaae2780d2ed77cf72818a5f540627aa86", HEX.formatHex(kdf[1]));
        assertEquals("04b0a393ae095b5eab30c90c5a5a8428bcd02196e65c32d7ec96425817282231", HEX.formatHex(kdf[2]));
        assertArrayEquals(kdf[0], Blake2s.kdf(1, counting(32), "meshwork kdf test input".getBytes(StandardCharsets.US_ASCII))[0]);
    }

    private static Key key(int fill) {
        byte[] bytes = new byte[32];
        java.util.Arrays.fill(bytes, (byte) fill);
        Key.clamp(bytes);
        return Key.of(bytes);
    }

    @Test
    void handshakeMessagesAndDerivedKeysHaveStableBytes() throws Exception {
        LocalIdentity initiator = new LocalIdentity(key(1));
        LocalIdentity responder = new LocalIdentity(key(2));
        Handshake initiatorSide = new Handshake(initiator, responder.publicKey(), () -> key(3));
        Handshake responderSide = new Handshake(responder, initiator.publicKey(), () -> key(4));
        initiatorSide.setPresharedKey(key(5));
        responderSide.setPresharedKey(key(5));

        byte[] initiation = initiatorSide.createInitiation(0x01020304, Instant.ofEpochSecond(1_700_000_000L));
        Macs.add(initiation, initiatorSide, null);
        responderSide.acceptInitiation(Handshake.consumeInitiation(responder, initiation));
        Handshake.Response response = responderSide.createResponse(0x0a0b0c0d, 0);
        Macs.add(response.message(), responderSide, null);
        Keypair keys = initiatorSide.consumeResponse(response.message(), 0);

        assertEquals(GOLDEN_INITIATION, HEX.formatHex(initiation));
        assertEquals(GOLDEN_RESPONSE, HEX.formatHex(response.message()));
        assertEquals(GOLDEN_SEND_KEY, HEX.formatHex(keys.sendKey().getEncoded()));
        assertEquals(0x0a0b0c0d, keys.remoteIndex());
    }

    static final String GOLDEN_INITIATION =
            "01000000040302015dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bdaf9df1c6e0124b3ef220a26599fb2188bb723276fc173af67616c817fc32fd04d686d87ec152fac10eed2bda3bb3b6f1eded6977684082284d817fb46b3a99b6be9bd273ed68fee6bc695abecae6b72f27ddb85c881aedc369b350eb27fa7f37db6bb208b3900000000000000000000000000000000";
    static final String GOLDEN_RESPONSE =
            "020000000d0c0b0a04030201ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10b70832e8f48ed9445e00e2a879e151a938f07bacf548f2efe2dd3eb9dd3eb398800000000000000000000000000000000";
    static final String GOLDEN_SEND_KEY =
            "933ff7aa1d67988299cc05887bb20a5820f691dbb5e59ce9ee52ac1b064143a8";
}
