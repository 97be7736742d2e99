package io.meshwork.protocol.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PrefixTest {

    @ParameterizedTest
    @CsvSource({
        "10.77.0.0/16, 10.77.0.0/16",
        "10.77.1.2/16, 10.77.0.0/16",
        "0.0.0.0/0, 0.0.0.0/0",
        "100.64.0.1/32, 100.64.0.1/32",
        "fd00::/64, fd00::/64",
        "FD00:0:0:0:1::/64, fd00::/64",
        "2001:db8::1/128, 2001:db8::1/128",
        "::/0, ::/0",
        "10.1.2.3/31, 10.1.2.2/31",
    })
    void parsesAndWritesCanonically(String text, String canonical) {
        assertEquals(canonical, Prefix.parse(text).toString());
        assertEquals(Prefix.parse(text), Prefix.parse(canonical));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8",
        "256.0.0.0/8", "10.0.0/8", "10.0.0.0.0/8", "fd00::/129", "fd00::g/64", "example.com/24", "/24",
        "10.0.0.0/ 8", "10.0.0.0/0x8", "1.2.3.4/0008", ":::/64"})
    void refusesEveryMalformedVariantWithItsText(String text) {
        InvalidAddressException refused = assertThrows(InvalidAddressException.class, () -> Prefix.parse(text));
        assertFalse(refused.getMessage().isBlank());
    }

    @Test
    void aBareAddressIsAHostPrefixOnlyWhereAsked() {
        assertEquals("192.0.2.7/32", Prefix.parseAddressOrPrefix("192.0.2.7").toString());
        assertEquals("fd00::7/128", Prefix.parseAddressOrPrefix("fd00::7").toString());
        assertTrue(Prefix.parseAddressOrPrefix("fd00::7").isHost());
        assertThrows(InvalidAddressException.class, () -> Prefix.parse("192.0.2.7"));
    }

    @Test
    void containmentMatchesANaiveBitByBitCheck() {
        Random random = new Random(20261207);
        for (int round = 0; round < 20_000; round++) {
            boolean v4 = random.nextBoolean();
            byte[] network = new byte[v4 ? 4 : 16];
            byte[] candidate = new byte[network.length];
            random.nextBytes(network);
            System.arraycopy(network, 0, candidate, 0, network.length);
            int flips = random.nextInt(3);
            for (int i = 0; i < flips; i++) {
                int bit = random.nextInt(network.length * 8);
                candidate[bit / 8] ^= (byte) (0x80 >>> (bit % 8));
            }
            int length = random.nextInt(network.length * 8 + 1);
            Prefix prefix = new Prefix(IpLiteral.of(network), length);
            boolean expected = true;
            for (int bit = 0; bit < length; bit++) {
                int mask = 0x80 >>> (bit % 8);
                expected &= (network[bit / 8] & mask) == (candidate[bit / 8] & mask);
            }
            assertEquals(expected, prefix.contains(IpLiteral.of(candidate)), prefix + " ? " + round);
        }
    }

    @Test
    void familiesNeverContainEachOther() {
        assertFalse(Prefix.parse("::/0").contains(IpLiteral.parse("10.0.0.1")));
        assertFalse(Prefix.parse("0.0.0.0/0").contains(IpLiteral.parse("::1")));
        assertTrue(Prefix.parse("10.0.0.0/8").contains(Prefix.parse("10.77.0.0/16")));
        assertFalse(Prefix.parse("10.77.0.0/16").contains(Prefix.parse("10.0.0.0/8")));
    }
}
