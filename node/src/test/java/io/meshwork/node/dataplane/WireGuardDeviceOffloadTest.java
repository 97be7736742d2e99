package io.meshwork.node.dataplane;

import static io.meshwork.node.dataplane.TunOffloadTest.checksumsValid;
import static io.meshwork.node.dataplane.TunOffloadTest.frame;
import static io.meshwork.node.dataplane.TunOffloadTest.packet;
import static io.meshwork.node.dataplane.TunOffloadTest.split;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.net.Prefix;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two devices whose TUN devices have offloads: super-packets read on one side arrive on the other as the
 * segments they stand for (coalesced again where they may be), through real sealing, batching and opening.
 */
class WireGuardDeviceOffloadTest extends TwoDevicesTest {

    private int coalescedFrames;

    private static final byte[] A4 = {10, 0, 0, 1};
    private static final byte[] B4 = {10, 0, 0, 2};
    private static final byte[] A6 = {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    private static final byte[] B6 = {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

    WireGuardDeviceOffloadTest() {
        super("wga", "wgb", true);
    }

    @BeforeEach
    void ipv6Too() {
        a.addAllowedIp(bAtA, Prefix.parseAddressOrPrefix("fd00::2/128"));
        b.addAllowedIp(aAtB, Prefix.parseAddressOrPrefix("fd00::1/128"));
    }

    /** Everything B's device wrote, split back into packets, until {@code count} packets came. */
    private List<byte[]> receivedAtB(int count) throws Exception {
        List<byte[]> packets = new ArrayList<>();
        while (packets.size() < count) {
            byte[] frame = tunB.framesToOs.poll(10, TimeUnit.SECONDS);
            assertNotNull(frame, "only " + packets.size() + " of " + count + " packets arrived");
            if (frame[1] != TunOffload.GSO_NONE) {
                coalescedFrames++;
            }
            packets.addAll(split(frame));
        }
        return packets;
    }

    private void handshake() throws Exception {
        byte[] ping = packet(new TunOffloadTest.Flow(true, 0, 0, 17, A4, B4, 1, 2), 1, 0, 0, 0, new byte[0],
                new byte[8], false);
        tunA.fromOs.add(frame(0, 0, 0, 0, 0, 0, ping));
        assertArrayEquals(ping, receivedAtB(1).get(0));
    }

    @Test
    void tcpSuperPacketsArriveAsTheirSegmentsIpv4AndIpv6() throws Exception {
        handshake();
        Random random = new Random(17);
        for (boolean ipv4 : new boolean[] {true, false}) {
            TunOffloadTest.Flow flow = new TunOffloadTest.Flow(ipv4, 0, 12, 6, ipv4 ? A4 : A6, ipv4 ? B4 : B6,
                    40000, 5201);
            for (int round = 0; round < 5; round++) {
                int mss = ipv4 ? 1368 : 1348;
                byte[] payload = new byte[random.nextInt(64000 - 100)];
                random.nextBytes(payload);
                byte[] options = new byte[12];
                random.nextBytes(options);
                byte[] superPacket = packet(flow, 100, random.nextInt(), 5, 0x18, options, payload, true);
                byte[] frame = frame(TunOffload.F_NEEDS_CSUM, ipv4 ? TunOffload.GSO_TCPV4 : TunOffload.GSO_TCPV6,
                        flow.headerLength(), mss, flow.l4(), 16, superPacket);
                List<byte[]> expected = split(frame);
                tunA.fromOs.add(frame);
                List<byte[]> got = receivedAtB(expected.size());
                assertEquals(expected.size(), got.size());
                for (int i = 0; i < expected.size(); i++) {
                    assertArrayEquals(expected.get(i), got.get(i), "segment " + i);
                    assertTrue(checksumsValid(got.get(i)));
                }
            }
        }
        assertTrue(tunB.toOs.isEmpty(), "every packet went out through the coalescer");
        assertTrue(coalescedFrames >= 5, "segments were coalesced again: " + coalescedFrames + " super-packets");
    }

    @Test
    void udpSuperPacketsArriveAsSeparateDatagramsWithValidChecksums() throws Exception {
        handshake();
        TunOffloadTest.Flow flow = new TunOffloadTest.Flow(false, 0, 0, 17, A6, B6, 5353, 4433);
        byte[] payload = new byte[10_001];
        new Random(2).nextBytes(payload);
        byte[] superPacket = packet(flow, 0, 0, 0, 0, new byte[0], payload, true);
        byte[] frame = frame(TunOffload.F_NEEDS_CSUM, TunOffload.GSO_UDP_L4, 48, 1200, 40, 6, superPacket);
        tunA.fromOs.add(frame);
        List<byte[]> got = receivedAtB(9);
        assertEquals(9, got.size());
        assertEquals(split(frame).size(), got.size());
        for (byte[] datagram : got) {
            assertTrue(checksumsValid(datagram));
        }
    }

    @Test
    void aMalformedFrameIsDroppedAndCounted() throws Exception {
        handshake();
        long before = a.dropped(DropReason.NOT_IP);
        byte[] p = packet(new TunOffloadTest.Flow(true, 0, 0, 6, A4, B4, 1, 2), 0, 0, 0, 0x10, new byte[0],
                new byte[3000], true);
        tunA.fromOs.add(frame(1, TunOffload.GSO_TCPV6, 40, 1000, 20, 16, p));
        byte[] ping = packet(new TunOffloadTest.Flow(true, 0, 0, 17, A4, B4, 1, 2), 1, 0, 0, 0, new byte[0],
                new byte[8], false);
        tunA.fromOs.add(frame(0, 0, 0, 0, 0, 0, ping));
        assertArrayEquals(ping, receivedAtB(1).get(0));
        assertEquals(before + 1, a.dropped(DropReason.NOT_IP));
    }

    @Test
    void superPacketsThroughTheRelayArriveSegmentBySegment() throws Exception {
        handshake();
        var relayThread = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            a.setRelayPath(relayTo(a, b, relayThread));
            a.setEndpoint(bAtA, null);
            a.useRelay(bAtA, true);
            TunOffloadTest.Flow flow = new TunOffloadTest.Flow(true, 0, 0, 6, A4, B4, 40000, 5201);
            byte[] payload = new byte[20_000];
            new Random(8).nextBytes(payload);
            byte[] superPacket = packet(flow, 9, 1000, 5, 0x10, new byte[0], payload, true);
            byte[] frame = frame(TunOffload.F_NEEDS_CSUM, TunOffload.GSO_TCPV4, 40, 1380, 20, 16, superPacket);
            List<byte[]> expected = split(frame);
            tunA.fromOs.add(frame);
            for (byte[] segment : expected) {
                // Relay deliveries are written packet by packet (no batch end to wait for).
                assertArrayEquals(segment, tunB.toOs.poll(10, TimeUnit.SECONDS));
            }
        } finally {
            relayThread.shutdownNow();
        }
    }
}
