package io.meshwork.node.dataplane;

import io.meshwork.protocol.net.Prefix;
import io.meshwork.protocol.net.IpLiteral;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link AllowedIps} against a naive reference on random data: the reference keeps a list of prefixes and finds
 * the longest match by a linear scan. Random IPv4 and IPv6 prefixes go in for random peers, peers are removed
 * ({@code removeAll}) and come back with new prefixes, and after every round many random addresses are looked up
 * in both. Each seed fixes a whole run; a failure names its seed.
 */
class AllowedIpsRandomTest {

    private static final int PEERS = 12;
    private static final int ROUNDS = 40;
    private static final int LOOKUPS_PER_ROUND = 500;

    /** One prefix of the reference: masked address bytes, length in bits, and the peer it routes to. */
    private record Route(byte[] address, int length, Integer peer) {
        boolean contains(byte[] ip) {
            return ip.length == address.length && matches(ip, address, length);
        }

        boolean samePrefix(byte[] otherAddress, int otherLength) {
            return otherLength == length && Arrays.equals(otherAddress, address);
        }
    }

    /** The reference table: a list, longest prefix by linear scan, exact prefix replaced on insert. */
    private static final class NaiveTable {
        final List<Route> routes = new ArrayList<>();

        void insert(byte[] address, int length, Integer peer) {
            routes.removeIf(route -> route.samePrefix(address, length));
            routes.add(new Route(address, length, peer));
        }

        void removeAll(Integer peer) {
            routes.removeIf(route -> route.peer().equals(peer));
        }

        Integer lookup(byte[] ip) {
            Route best = null;
            for (Route route : routes) {
                if (route.contains(ip) && (best == null || route.length() > best.length())) {
                    best = route;
                }
            }
            return best == null ? null : best.peer();
        }

        Set<String> prefixesOf(Integer peer) {
            Set<String> out = new HashSet<>();
            for (Route route : routes) {
                if (route.peer().equals(peer)) {
                    out.add(IpLiteral.format(IpLiteral.of(route.address())) + "/" + route.length());
                }
            }
            return out;
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1L, 2L, 3L, 42L, 1234L, 0x5EEDL, 20240601L, 987654321L})
    void matchesLinearScanReference(long seed) {
        Random random = new Random(seed);
        AllowedIps<Integer> table = new AllowedIps<>();
        NaiveTable reference = new NaiveTable();
        // Prefixes and lookups draw from a few bases per family so that prefixes nest and overlap.
        List<byte[]> bases = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            bases.add(randomBytes(random, 4));
            bases.add(randomBytes(random, 16));
        }
        for (int round = 0; round < ROUNDS; round++) {
            int inserts = 1 + random.nextInt(30);
            for (int i = 0; i < inserts; i++) {
                byte[] address = near(random, bases.get(random.nextInt(bases.size())));
                int length = randomLength(random, address.length * 8);
                Integer peer = random.nextInt(PEERS);
                Prefix prefix = new Prefix(IpLiteral.of(address), length);
                table.insert(prefix, peer);
                reference.insert(prefix.address().getAddress(), length, peer);
            }
            if (random.nextInt(3) == 0) {
                Integer removed = random.nextInt(PEERS);
                table.removeAll(removed);
                reference.removeAll(removed);
            }
            for (int i = 0; i < LOOKUPS_PER_ROUND; i++) {
                byte[] ip = random.nextInt(4) == 0
                        ? randomBytes(random, random.nextBoolean() ? 4 : 16)
                        : near(random, bases.get(random.nextInt(bases.size())));
                Integer expected = reference.lookup(ip);
                String context = "seed " + seed + ", round " + round + ", lookup " + i + " of "
                        + IpLiteral.format(IpLiteral.of(ip));
                assertEquals(expected, table.lookup(IpLiteral.of(ip)), context);
                // The data plane's way: the address read in place from a packet at an offset.
                int offset = ip.length == 4 ? 16 : 24;
                ByteBuffer packet = ByteBuffer.allocate(offset + ip.length);
                packet.put(offset, ip);
                assertEquals(expected, table.lookup(packet, offset, ip.length), context + " (in a packet)");
            }
            for (int peer = 0; peer < PEERS; peer++) {
                Set<String> actual = new HashSet<>();
                for (Prefix prefix : table.prefixesOf(peer)) {
                    actual.add(prefix.toString());
                }
                assertEquals(reference.prefixesOf(peer), actual,
                        "seed " + seed + ", round " + round + ", prefixes of peer " + peer);
            }
        }
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /** {@code base} with every bit from a random position on replaced by random bits. */
    private static byte[] near(Random random, byte[] base) {
        byte[] out = base.clone();
        int bits = out.length * 8;
        for (int bit = random.nextInt(bits + 1); bit < bits; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if (random.nextBoolean()) {
                out[bit / 8] ^= (byte) mask;
            }
        }
        return out;
    }

    /** Any length from 0 to {@code bits}, with the edges (default routes, host routes) drawn more often. */
    private static int randomLength(Random random, int bits) {
        return switch (random.nextInt(10)) {
            case 0 -> 0;
            case 1 -> bits;
            default -> random.nextInt(bits + 1);
        };
    }

    private static boolean matches(byte[] ip, byte[] prefix, int length) {
        for (int bit = 0; bit < length; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((ip[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }
}
