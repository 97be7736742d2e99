package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.RelayFrame.Ping;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamFrameDecoderTest {

    private final List<DropReason> drops = new ArrayList<>();
    private final EmbeddedChannel channel = new EmbeddedChannel(
            new StreamFrameDecoder((reason, detail, source) -> drops.add(reason)));

    @Test
    void framesSplitAcrossReadsAreReassembled() {
        byte[] first = RelayFrameCodec.encodeStream(new Ping(1));
        byte[] second = RelayFrameCodec.encodeStream(new Ping(2));
        byte[] stream = new byte[first.length + second.length];
        System.arraycopy(first, 0, stream, 0, first.length);
        System.arraycopy(second, 0, stream, first.length, second.length);
        for (byte b : stream) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        StreamFrameDecoder.Inbound one = channel.readInbound();
        StreamFrameDecoder.Inbound two = channel.readInbound();
        assertEquals(1, assertInstanceOf(Ping.class, one.frame()).nonce());
        assertEquals(2, assertInstanceOf(Ping.class, two.frame()).nonce());
        assertEquals(first.length, one.wireBytes());
        assertTrue(drops.isEmpty());
    }

    @Test
    void undecodableFramesAreSkippedAndTheStreamGoesOn() {
        byte[] ping = RelayFrameCodec.encodeStream(new Ping(7));
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0, 2, (byte) 0xEE, 0}, new byte[] {0, 2, 0x0A, 0}, ping));
        StreamFrameDecoder.Inbound inbound = channel.readInbound();
        assertEquals(7, ((Ping) inbound.frame()).nonce());
        assertEquals(List.of(DropReason.UNKNOWN_TYPE, DropReason.MALFORMED), drops);
        assertTrue(channel.isActive());
    }

    @Test
    void aLengthOutOfRangeClosesTheConnection() {
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x20, 0x01, 0x0A}));
        assertNull(channel.readInbound());
        assertEquals(List.of(DropReason.FRAMING), drops);
        assertFalse(channel.isActive());
    }

    @Test
    void aZeroLengthClosesTheConnection() {
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0, 0, 0x0A}));
        assertEquals(List.of(DropReason.FRAMING), drops);
        assertFalse(channel.isActive());
    }
}
