package io.meshwork.node.dataplane;

import io.meshwork.protocol.net.Prefix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.wireguard.Key;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One receiving device, two peers at once: A reaches it directly (datagrams handled on the transport's I/O
 * thread) and C through the relay (datagrams handed to {@link WireGuardDevice#receiveFromRelay} on a thread of
 * its own, as the TCP relay client's reader does). Every packet that reaches the receiver's interface must be
 * exactly one that was sent, byte for byte, from the address of the peer that sent it, and every one must arrive.
 */
class WireGuardDeviceReceiveRaceTest {

    /** Packets per sender: enough that both receive paths decrypt concurrently many thousands of times. */
    private static final int PACKETS = 6000;
    private static final int A = 1;
    private static final int B = 2;
    private static final int C = 3;
    /** Payload: sender (1), sequence (4), random filler, CRC32 of everything before it (4). */
    private static final int HEADER = 5;
    private static final int TRAILER = 4;

    private final MemoryNetwork network = new MemoryNetwork();
    /** Delivers relayed datagrams to B from one thread of its own, as the TCP relay reader does. */
    private final ExecutorService relayReaderAtB = Executors.newSingleThreadExecutor(r -> new Thread(r, "relay-to-b"));
    private final ExecutorService relayReaderAtC = Executors.newSingleThreadExecutor(r -> new Thread(r, "relay-to-c"));
    private MemoryTun tunA;
    private MemoryTun tunB;
    private MemoryTun tunC;
    private WireGuardDevice a;
    private WireGuardDevice b;
    private WireGuardDevice c;

    @BeforeEach
    void threeDevices() {
        tunA = new MemoryTun("wgra");
        tunB = new MemoryTun("wgrb");
        tunC = new MemoryTun("wgrc");
        a = new WireGuardDevice(tunA, network.at("192.0.2.1"));
        b = new WireGuardDevice(tunB, network.at("192.0.2.2"));
        c = new WireGuardDevice(tunC, network.at("192.0.2.3"));
        a.setPrivateKey(Key.generatePrivate());
        b.setPrivateKey(Key.generatePrivate());
        c.setPrivateKey(Key.generatePrivate());

        Peer bAtA = a.addPeer(b.publicKey());
        a.addAllowedIp(bAtA, Prefix.parseAddressOrPrefix("10.0.0.2/32"));
        a.setEndpoint(bAtA, b.transport().localAddress());

        Peer aAtB = b.addPeer(a.publicKey());
        b.addAllowedIp(aAtB, Prefix.parseAddressOrPrefix("10.0.0.1/32"));
        Peer cAtB = b.addPeer(c.publicKey());
        b.addAllowedIp(cAtB, Prefix.parseAddressOrPrefix("10.0.0.3/32"));

        Peer bAtC = c.addPeer(b.publicKey());
        c.addAllowedIp(bAtC, Prefix.parseAddressOrPrefix("10.0.0.2/32"));
        c.useRelay(bAtC, true);
        c.setRelayPath((peer, datagram) -> relay(datagram, relayReaderAtB, b, c.publicKey()));
        b.setRelayPath((peer, datagram) -> relay(datagram, relayReaderAtC, c, b.publicKey()));
    }

    private static boolean relay(ByteBuffer datagram, ExecutorService reader, WireGuardDevice to, Key from) {
        byte[] copy = new byte[datagram.remaining()];
        datagram.duplicate().get(copy);
        reader.execute(() -> to.receiveFromRelay(from, ByteBuffer.wrap(copy)));
        return true;
    }

    @AfterEach
    void close() {
        relayReaderAtB.shutdownNow();
        relayReaderAtC.shutdownNow();
        a.close();
        b.close();
        c.close();
        network.close();
    }

    @Test
    void aDirectAndARelayedPeerReceivingAtOnceNeverMixTheirPlaintexts() throws Exception {
        // Sessions first, so nothing is staged (and possibly dropped) while the handshakes run.
        tunA.fromOs.add(packet(A, -1, new Random(0)));
        tunC.fromOs.add(packet(C, -1, new Random(0)));
        assertNotNull(tunB.toOs.poll(10, TimeUnit.SECONDS), "first session");
        assertNotNull(tunB.toOs.poll(10, TimeUnit.SECONDS), "second session");
        assertTrue(b.peer(c.publicKey()).viaRelay(), "C's packets came by the relay");

        // Different sizes per sender, so a plaintext overwritten mid-way also changes lengths and checksums.
        List<byte[]> fromA = new ArrayList<>();
        List<byte[]> fromC = new ArrayList<>();
        Random random = new Random(13);
        for (int i = 0; i < PACKETS; i++) {
            fromA.add(packet(A, i, random));
            fromC.add(packet(C, i, random));
        }
        tunA.fromOs.addAll(fromA);
        tunC.fromOs.addAll(fromC);

        BitSet seenFromA = new BitSet();
        BitSet seenFromC = new BitSet();
        List<String> problems = new ArrayList<>();
        int received = 0;
        byte[] got;
        while (received < 2 * PACKETS && (got = tunB.toOs.poll(10, TimeUnit.SECONDS)) != null) {
            received++;
            String problem = check(got, A, fromA, seenFromA);
            if (problem != null && !problem.startsWith("source")) {
                problems.add(problem);
            } else if (problem != null) {
                String asC = check(got, C, fromC, seenFromC);
                if (asC != null) {
                    problems.add(asC.startsWith("source") ? "unknown source " + (got[15] & 0xFF) : asC);
                }
            }
        }
        assertEquals(List.of(), problems.subList(0, Math.min(10, problems.size())),
                problems.size() + " bad packets of " + received + "; drops at B: " + drops(b));
        assertEquals(PACKETS, seenFromA.cardinality(), "packets from A; drops at B: " + drops(b));
        assertEquals(PACKETS, seenFromC.cardinality(), "packets from C; drops at B: " + drops(b));
    }

    /**
     * Null when {@code got} is, byte for byte, a packet {@code sender} sent and has not been seen before; else what
     * is wrong with it (starting with "source" when it does not claim to come from {@code sender} at all).
     */
    private static String check(byte[] got, int sender, List<byte[]> sent, BitSet seen) {
        if (got.length < 20 + HEADER + TRAILER || got[12] != 10 || got[13] != 0 || got[14] != 0) {
            return "malformed packet of " + got.length + " bytes";
        }
        if ((got[15] & 0xFF) != sender) {
            return "source 10.0.0." + (got[15] & 0xFF);
        }
        CRC32 crc = new CRC32();
        crc.update(got, 20, got.length - 20 - TRAILER);
        if ((int) crc.getValue() != ByteBuffer.wrap(got, got.length - TRAILER, TRAILER).getInt()) {
            return "checksum of a packet from 10.0.0." + sender + " (" + got.length + " bytes)";
        }
        if (got[20] != sender) {
            return "packet from 10.0.0." + sender + " carries the payload of sender " + got[20];
        }
        int sequence = ByteBuffer.wrap(got, 21, 4).getInt();
        if (sequence < 0 || sequence >= sent.size() || !java.util.Arrays.equals(got, sent.get(sequence))) {
            return "packet " + sequence + " from 10.0.0." + sender + " differs from what was sent";
        }
        if (seen.get(sequence)) {
            return "packet " + sequence + " from 10.0.0." + sender + " delivered twice";
        }
        seen.set(sequence);
        return null;
    }

    /** An IPv4 packet from 10.0.0.{@code sender} to B whose payload identifies it and carries its own CRC32. */
    private static byte[] packet(int sender, int sequence, Random random) {
        int size = sender == A ? 900 + random.nextInt(400) : 60 + random.nextInt(400);
        byte[] payload = new byte[size];
        random.nextBytes(payload);
        ByteBuffer buffer = ByteBuffer.wrap(payload);
        buffer.put(0, (byte) sender);
        buffer.putInt(1, sequence);
        CRC32 crc = new CRC32();
        crc.update(payload, 0, size - TRAILER);
        buffer.putInt(size - TRAILER, (int) crc.getValue());
        return WireGuardDeviceTest.ipv4(sender, B, payload);
    }

    private static String drops(WireGuardDevice device) {
        StringBuilder text = new StringBuilder();
        for (DropReason reason : DropReason.values()) {
            if (device.dropped(reason) > 0) {
                text.append(reason).append('=').append(device.dropped(reason)).append(' ');
            }
        }
        return text.toString();
    }
}
