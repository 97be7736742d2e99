package io.meshwork.node.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Splitting and coalescing against a reference: packets built byte by byte here, checksums computed by a plain
 * RFC 1071 sum over byte arrays (not the code under test), on random sizes including odd ones, IPv4 and IPv6, TCP
 * options and IPv4 options.
 */
class TunOffloadTest {

    private static final int TCP = 6;
    private static final int UDP = 17;

    // ---- reference ------------------------------------------------------------------------------------------

    /** Ones' complement sum of 16-bit big-endian words, byte by byte. */
    static int referenceSum(byte[] data, int from, int to, int initial) {
        long sum = initial;
        for (int i = from; i < to; i += 2) {
            int hi = data[i] & 0xFF;
            int lo = i + 1 < to ? data[i + 1] & 0xFF : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (int) sum;
    }

    static int referencePseudo(byte[] p, boolean ipv4, int protocol, int length) {
        int sum = ipv4 ? referenceSum(p, 12, 20, 0) : referenceSum(p, 8, 40, 0);
        return referenceSum(new byte[] {0, (byte) protocol, (byte) (length >> 8), (byte) length}, 0, 4, sum);
    }

    /** True when the packet's IPv4 header (if any) and transport checksum verify. */
    static boolean checksumsValid(byte[] p) {
        boolean ipv4 = (p[0] & 0xF0) == 0x40;
        int l4 = ipv4 ? (p[0] & 0x0F) * 4 : 40;
        if (ipv4 && referenceSum(p, 0, l4, 0) != 0xFFFF) {
            return false;
        }
        int protocol = ipv4 ? p[9] : p[6];
        if (protocol == UDP && p[l4 + 6] == 0 && p[l4 + 7] == 0) {
            return false; // we never send a UDP checksum of zero
        }
        return referenceSum(p, l4, p.length, referencePseudo(p, ipv4, protocol, p.length - l4)) == 0xFFFF;
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    static int u32(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >> 8);
        b[at + 1] = (byte) v;
    }

    static void put32(byte[] b, int at, int v) {
        put16(b, at, v >>> 16);
        put16(b, at + 2, v);
    }

    /** Flow identity for generated packets. */
    record Flow(boolean ipv4, int ipOptions, int tcpOptions, int protocol, byte[] src, byte[] dst, int sport,
            int dport) {
        static Flow random(Random random, int protocol) {
            boolean ipv4 = random.nextBoolean();
            byte[] src = new byte[ipv4 ? 4 : 16];
            byte[] dst = new byte[ipv4 ? 4 : 16];
            random.nextBytes(src);
            random.nextBytes(dst);
            return new Flow(ipv4, 0, protocol == TCP ? 4 * random.nextInt(11) : 0, protocol, src, dst,
                    random.nextInt(65536), random.nextInt(65536));
        }

        int l4() {
            return ipv4 ? 20 + ipOptions : 40;
        }

        int headerLength() {
            return l4() + (protocol == TCP ? 20 + tcpOptions : 8);
        }
    }

    /**
     * A packet of the flow: IP and transport headers (fields as given), payload; checksums complete unless
     * {@code partial}, in which case the transport checksum field holds the pseudo-header sum as the kernel leaves
     * it for checksum offload.
     */
    static byte[] packet(Flow f, int id, int seq, int ack, int flags, byte[] options, byte[] payload,
            boolean partial) {
        int l4 = f.l4();
        int hl = f.headerLength();
        byte[] p = new byte[hl + payload.length];
        if (f.ipv4) {
            p[0] = (byte) (0x40 | (l4 / 4));
            p[1] = 0x10;
            put16(p, 2, p.length);
            put16(p, 4, id);
            p[6] = 0x40; // DF
            p[8] = 64;
            p[9] = (byte) f.protocol;
            System.arraycopy(f.src, 0, p, 12, 4);
            System.arraycopy(f.dst, 0, p, 16, 4);
            for (int i = 20; i < l4; i++) {
                p[i] = 1; // IPv4 options: NOPs
            }
            put16(p, 10, ~referenceSum(p, 0, l4, 0));
        } else {
            p[0] = 0x60;
            p[1] = 0x0A;
            p[3] = 0x42;
            put16(p, 4, p.length - 40);
            p[6] = (byte) f.protocol;
            p[7] = 64;
            System.arraycopy(f.src, 0, p, 8, 16);
            System.arraycopy(f.dst, 0, p, 24, 16);
        }
        put16(p, l4, f.sport);
        put16(p, l4 + 2, f.dport);
        int checksumAt;
        if (f.protocol == TCP) {
            put32(p, l4 + 4, seq);
            put32(p, l4 + 8, ack);
            p[l4 + 12] = (byte) (((20 + f.tcpOptions) / 4) << 4);
            p[l4 + 13] = (byte) flags;
            put16(p, l4 + 14, 502);
            System.arraycopy(options, 0, p, l4 + 20, f.tcpOptions);
            checksumAt = l4 + 16;
        } else {
            put16(p, l4 + 4, p.length - l4);
            checksumAt = l4 + 6;
        }
        System.arraycopy(payload, 0, p, hl, payload.length);
        int pseudo = referencePseudo(p, f.ipv4, f.protocol, p.length - l4);
        if (partial) {
            put16(p, checksumAt, pseudo);
        } else {
            int checksum = ~referenceSum(p, l4, p.length, pseudo) & 0xFFFF;
            put16(p, checksumAt, checksum == 0 && f.protocol == UDP ? 0xFFFF : checksum);
        }
        return p;
    }

    static byte[] frame(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset,
            byte[] packet) {
        byte[] frame = new byte[TunOffload.HEADER_SIZE + packet.length];
        int[] fields = {hdrLen, gsoSize, csumStart, csumOffset};
        frame[0] = (byte) flags;
        frame[1] = (byte) gsoType;
        for (int i = 0; i < 4; i++) {
            frame[2 + 2 * i] = (byte) fields[i];
            frame[3 + 2 * i] = (byte) (fields[i] >> 8);
        }
        System.arraycopy(packet, 0, frame, TunOffload.HEADER_SIZE, packet.length);
        return frame;
    }

    static ByteBuffer direct(byte[] bytes, int slack) {
        ByteBuffer b = ByteBuffer.allocateDirect(bytes.length + slack);
        b.put(bytes).flip();
        return b;
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static List<byte[]> split(byte[] frame) throws TunOffload.MalformedFrame {
        TunOffload.Segmenter segmenter = new TunOffload.Segmenter();
        ByteBuffer in = direct(frame, 0);
        int count = segmenter.parse(in, 0, in.limit());
        List<byte[]> out = new ArrayList<>();
        if (!segmenter.segmented()) {
            assertEquals(1, count);
            out.add(bytes(in.duplicate().limit(segmenter.packetEnd()).position(segmenter.packetStart())));
            return out;
        }
        ByteBuffer segment = ByteBuffer.allocate(70000);
        for (int i = 0; i < count; i++) {
            segment.clear();
            segmenter.write(i, segment);
            segment.flip();
            out.add(bytes(segment));
        }
        return out;
    }

    // ---- splitting --------------------------------------------------------------------------------------------

    @Test
    void splitsRandomTcpAndUdpSuperPacketsIntoSegmentsWithCorrectHeadersAndChecksums() throws Exception {
        Random random = new Random(21);
        for (int round = 0; round < 400; round++) {
            int protocol = random.nextInt(4) == 0 ? UDP : TCP;
            Flow f = Flow.random(random, protocol);
            int hl = f.headerLength();
            int gso = random.nextBoolean() ? 1 + random.nextInt(1500) : 1300 + random.nextInt(200);
            int maxPayload = 65535 - hl; // what a 64 KB read holds, IPv4 or IPv6
            int payloadLength = random.nextInt(4) == 0 ? Math.min(maxPayload, random.nextInt(3 * gso + 1))
                    : random.nextInt(maxPayload + 1);
            byte[] payload = new byte[payloadLength];
            random.nextBytes(payload);
            byte[] options = new byte[f.tcpOptions];
            random.nextBytes(options);
            int id = random.nextInt(65536);
            int seq = random.nextInt();
            int ack = random.nextInt();
            int flags = 0x10 | 0x08 | (random.nextBoolean() ? 0x01 : 0) | (random.nextBoolean() ? 0x80 : 0);
            byte[] superPacket = packet(f, id, seq, ack, flags, options, payload, true);
            int type = protocol == UDP ? TunOffload.GSO_UDP_L4 : f.ipv4 ? TunOffload.GSO_TCPV4 : TunOffload.GSO_TCPV6;
            List<byte[]> segments = split(frame(TunOffload.F_NEEDS_CSUM, type, hl, gso, f.l4(),
                    protocol == TCP ? 16 : 6, superPacket));
            int expectedCount = Math.max(1, (payloadLength + gso - 1) / gso);
            assertEquals(expectedCount, segments.size(), "round " + round);
            ByteBuffer reassembled = ByteBuffer.allocate(payloadLength);
            for (int i = 0; i < segments.size(); i++) {
                byte[] s = segments.get(i);
                int chunk = Math.min(gso, payloadLength - i * gso);
                assertEquals(hl + Math.max(0, chunk), s.length, "round " + round + " segment " + i);
                assertTrue(checksumsValid(s), "round " + round + " segment " + i);
                if (f.ipv4) {
                    assertEquals(s.length, u16(s, 2));
                    assertEquals((id + i) & 0xFFFF, u16(s, 4));
                } else {
                    assertEquals(s.length - 40, u16(s, 4));
                }
                if (protocol == TCP) {
                    assertEquals(seq + i * gso, u32(s, f.l4() + 4));
                    assertEquals(ack, u32(s, f.l4() + 8));
                    int expectedFlags = flags;
                    if (i < segments.size() - 1) {
                        expectedFlags &= ~0x09;
                    }
                    if (i > 0) {
                        expectedFlags &= ~0x80;
                    }
                    assertEquals(expectedFlags, s[f.l4() + 13] & 0xFF);
                    assertArrayEquals(options, Arrays.copyOfRange(s, f.l4() + 20, hl));
                } else {
                    assertEquals(s.length - f.l4(), u16(s, f.l4() + 4));
                }
                reassembled.put(s, hl, s.length - hl);
            }
            assertArrayEquals(payload, reassembled.array(), "round " + round);
        }
    }

    @Test
    void completesAPartialChecksumOnAPlainPacketInPlaceIncludingIpv4Options() throws Exception {
        Random random = new Random(7);
        for (int round = 0; round < 300; round++) {
            int protocol = random.nextBoolean() ? UDP : TCP;
            Flow base = Flow.random(random, protocol);
            Flow f = base.ipv4 ? new Flow(true, 4 * random.nextInt(11), base.tcpOptions(), protocol, base.src(),
                    base.dst(), base.sport(), base.dport()) : base;
            byte[] payload = new byte[random.nextInt(1400)];
            random.nextBytes(payload);
            byte[] options = new byte[f.tcpOptions];
            byte[] partial = packet(f, 1, 2, 3, 0x18, options, payload, true);
            byte[] complete = packet(f, 1, 2, 3, 0x18, options, payload, false);
            List<byte[]> out = split(frame(TunOffload.F_NEEDS_CSUM, TunOffload.GSO_NONE, 0, 0, f.l4(),
                    protocol == TCP ? 16 : 6, partial));
            assertEquals(1, out.size());
            assertArrayEquals(complete, out.get(0), "round " + round);
            assertTrue(checksumsValid(out.get(0)));
            // Without NEEDS_CSUM the packet is passed as it is.
            assertArrayEquals(complete, split(frame(0, 0, 0, 0, 0, 0, complete)).get(0));
        }
    }

    @Test
    void refusesFramesWhoseHeaderAndPacketDisagree() {
        Flow f = new Flow(true, 0, 0, TCP, new byte[4], new byte[4], 1, 2);
        byte[] p = packet(f, 0, 0, 0, 0x10, new byte[0], new byte[3000], true);
        // TCPv6 GSO on an IPv4 packet; GSO size 0; checksum beyond the packet; UDP GSO on TCP; too short.
        assertThrows(TunOffload.MalformedFrame.class, () -> split(frame(1, TunOffload.GSO_TCPV6, 40, 1000, 20, 16, p)));
        assertThrows(TunOffload.MalformedFrame.class, () -> split(frame(1, TunOffload.GSO_TCPV4, 40, 0, 20, 16, p)));
        assertThrows(TunOffload.MalformedFrame.class, () -> split(frame(1, 0, 0, 0, 20, 4000, p)));
        assertThrows(TunOffload.MalformedFrame.class, () -> split(frame(1, TunOffload.GSO_UDP_L4, 28, 1000, 20, 6, p)));
        assertThrows(TunOffload.MalformedFrame.class, () -> split(new byte[12]));
        byte[] lying = p.clone();
        put16(lying, 2, 4000); // total length beyond the frame
        assertThrows(TunOffload.MalformedFrame.class, () -> split(frame(0, 0, 0, 0, 0, 0, lying)));
    }

    @Test
    void randomBytesEitherParseOrAreRefusedButNeverThrowAnythingElse() {
        Random random = new Random(99);
        ByteBuffer segment = ByteBuffer.allocate(70000);
        TunOffload.Segmenter segmenter = new TunOffload.Segmenter();
        for (int round = 0; round < 20000; round++) {
            byte[] frame = new byte[random.nextInt(random.nextBoolean() ? 80 : 3000)];
            random.nextBytes(frame);
            if (frame.length > 12 && random.nextBoolean()) {
                frame[10] = (byte) (random.nextBoolean() ? 0x45 : 0x60);
                frame[1] = (byte) (random.nextInt(6));
                frame[5] = (byte) random.nextInt(8);
            }
            ByteBuffer in = direct(frame, 0);
            try {
                int count = segmenter.parse(in, 0, in.limit());
                if (segmenter.segmented()) {
                    for (int i = 0; i < count; i++) {
                        segment.clear();
                        segmenter.write(i, segment);
                    }
                }
            } catch (TunOffload.MalformedFrame expected) {
                // refused: the caller drops and counts it
            }
        }
    }

    // ---- coalescing -------------------------------------------------------------------------------------------

    /** Collects what a coalescer writes. */
    static final class Frames implements TunOffload.FrameSink {
        final List<byte[]> frames = new ArrayList<>();

        @Override
        public void writeFrame(ByteBuffer frame) {
            frames.add(bytes(frame));
        }

        /** Every frame split back into packets, in order. */
        List<byte[]> packets() throws TunOffload.MalformedFrame {
            List<byte[]> out = new ArrayList<>();
            for (byte[] frame : frames) {
                out.addAll(split(frame));
            }
            return out;
        }
    }

    /** A TCP bulk transfer as the kernel sends it: full segments, every one with ACK, the last maybe with PSH. */
    static List<byte[]> stream(Random random, Flow f, int segments, int mss, int lastLength, boolean push) {
        byte[] options = new byte[f.tcpOptions];
        random.nextBytes(options);
        int seq = random.nextInt();
        int id = random.nextInt(65536);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < segments; i++) {
            byte[] payload = new byte[i == segments - 1 ? lastLength : mss];
            random.nextBytes(payload);
            int flags = 0x10 | (push && i == segments - 1 ? 0x08 : 0);
            out.add(packet(f, id + i, seq, 77, flags, options, payload, false));
            seq += payload.length;
        }
        return out;
    }

    static Frames coalesce(List<byte[]> packets) {
        Frames sink = new Frames();
        TunOffload.Coalescer coalescer = new TunOffload.Coalescer(
                ByteBuffer.allocateDirect(TunOffload.HEADER_SIZE + TunOffload.MAX_PACKET), sink);
        for (byte[] p : packets) {
            coalescer.add(direct(p, 16));
        }
        coalescer.flush();
        return sink;
    }

    @Test
    void coalescesOneFlowIntoSuperPacketsThatSplitBackIntoTheSameSegments() throws Exception {
        Random random = new Random(5);
        for (int round = 0; round < 200; round++) {
            Flow f = Flow.random(random, TCP);
            int mss = 1 + random.nextInt(1400);
            int segments = 1 + random.nextInt(120);
            List<byte[]> in = stream(random, f, segments, mss, 1 + random.nextInt(mss), random.nextBoolean());
            Frames out = coalesce(in);
            List<byte[]> back = out.packets();
            assertEquals(in.size(), back.size(), "round " + round);
            for (int i = 0; i < in.size(); i++) {
                assertArrayEquals(in.get(i), back.get(i), "round " + round + " packet " + i);
            }
            long maxPerFrame = Math.min(TunOffload.MAX_COALESCED,
                    (TunOffload.MAX_PACKET - f.headerLength()) / mss);
            assertTrue(out.frames.size() <= (segments + maxPerFrame - 1) / maxPerFrame + 1,
                    "round " + round + ": " + out.frames.size() + " frames for " + segments + " segments");
            for (byte[] frame : out.frames) {
                byte[] packet = Arrays.copyOfRange(frame, TunOffload.HEADER_SIZE, frame.length);
                if (frame[1] == 0) {
                    assertTrue(checksumsValid(packet));
                    continue;
                }
                assertEquals(TunOffload.F_NEEDS_CSUM, frame[0]);
                assertEquals(f.ipv4 ? TunOffload.GSO_TCPV4 : TunOffload.GSO_TCPV6, frame[1]);
                assertEquals(f.headerLength(), (frame[2] & 0xFF) | (frame[3] & 0xFF) << 8);
                assertEquals(mss, (frame[4] & 0xFF) | (frame[5] & 0xFF) << 8);
                assertEquals(f.l4(), (frame[6] & 0xFF) | (frame[7] & 0xFF) << 8);
                assertEquals(16, frame[8]);
                if (f.ipv4) {
                    assertEquals(0xFFFF, referenceSum(packet, 0, 20, 0), "IPv4 header checksum");
                }
                // The transport checksum is partial: the pseudo-header sum for the whole super-packet.
                assertEquals(referencePseudo(packet, f.ipv4, TCP, packet.length - f.l4()), u16(packet, f.l4() + 16));
            }
        }
    }

    @Test
    void keepsOrderAndMergesNothingThatMustNotBeMerged() throws Exception {
        Random random = new Random(11);
        for (int round = 0; round < 200; round++) {
            List<byte[]> in = new ArrayList<>();
            Flow one = Flow.random(random, TCP);
            Flow two = Flow.random(random, TCP);
            List<byte[]> a = stream(random, one, 30, 1000, 1000, false);
            List<byte[]> b = stream(random, two, 30, 700, 300, true);
            int ia = 0;
            int ib = 0;
            List<byte[]> mustStayAlone = new ArrayList<>();
            while (ia < a.size() || ib < b.size()) {
                int pick = random.nextInt(10);
                if (pick < 5 && ia < a.size()) {
                    in.add(a.get(ia++));
                } else if (pick < 8 && ib < b.size()) {
                    in.add(b.get(ib++));
                } else if (pick == 8) {
                    byte[] bad = a.get(random.nextInt(a.size())).clone();
                    bad[bad.length - 1] ^= 0x5A; // checksum no longer verifies
                    in.add(bad);
                    mustStayAlone.add(bad);
                } else {
                    byte[] udp = packet(Flow.random(random, UDP), 1, 0, 0, 0, new byte[0], new byte[100], false);
                    in.add(udp);
                    mustStayAlone.add(udp);
                }
            }
            Frames out = coalesce(in);
            List<byte[]> back = out.packets();
            assertEquals(in.size(), back.size());
            for (int i = 0; i < in.size(); i++) {
                assertArrayEquals(in.get(i), back.get(i), "round " + round + " packet " + i);
            }
            for (byte[] alone : mustStayAlone) {
                assertTrue(out.frames.stream().anyMatch(frame -> frame[1] == 0
                        && Arrays.equals(alone, Arrays.copyOfRange(frame, TunOffload.HEADER_SIZE, frame.length))));
            }
        }
    }

    @Test
    void doesNotMergeAcrossAGapADifferentAckOrAfterAShortOrPushedSegment() throws Exception {
        Random random = new Random(3);
        Flow f = new Flow(true, 0, 12, TCP, new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2}, 40000, 5201);
        List<byte[]> s = stream(random, f, 6, 1000, 1000, false);
        // A gap: segment 2 missing.
        assertEquals(2, coalesce(List.of(s.get(0), s.get(1), s.get(3), s.get(4))).frames.size());
        // A different ack in segment 1.
        byte[] otherAck = s.get(1).clone();
        put32(otherAck, 28, 78);
        put16(otherAck, 36, 0);
        put16(otherAck, 36, ~referenceSum(otherAck, 20, otherAck.length,
                referencePseudo(otherAck, true, TCP, otherAck.length - 20)));
        assertEquals(2, coalesce(List.of(s.get(0), otherAck)).frames.size());
        // A short segment ends a super-packet, as does PSH.
        List<byte[]> shortFirst = stream(random, f, 3, 1000, 500, false);
        assertEquals(1, coalesce(shortFirst).frames.size());
        List<byte[]> pushed = stream(random, f, 4, 1000, 1000, true);
        Frames pushedOut = coalesce(List.of(pushed.get(0), pushed.get(1), pushed.get(2), pushed.get(3),
                stream(random, f, 1, 1000, 1000, false).get(0)));
        assertEquals(2, pushedOut.frames.size());
        byte[] first = pushedOut.frames.get(0);
        assertEquals(0x18, first[TunOffload.HEADER_SIZE + 20 + 13] & 0xFF, "PSH carried to the super-packet");
    }
}
