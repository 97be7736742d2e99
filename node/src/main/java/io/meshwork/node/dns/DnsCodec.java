package io.meshwork.node.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DnsResponse;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Netty's DNS codec ({@code netty-codec-dns}) used on buffers rather than in a pipeline, so the resolver can keep
 * a query's raw bytes for forwarding and measure an answer before sending it. Decoding is the codec's own; it
 * throws on whatever is not a well-formed query, and the caller drops and counts that. Not thread-safe: one per
 * channel.
 */
final class DnsCodec {

    private final Decoder decoder = new Decoder();
    private final Encoder encoder = new Encoder();

    /**
     * The query in {@code packet} (its content's reader index is left where it was).
     *
     * @throws Exception when the bytes are not a DNS query
     */
    DatagramDnsQuery decode(DatagramPacket packet) throws Exception {
        ByteBuf content = packet.content();
        int start = content.readerIndex();
        List<Object> out = new ArrayList<>(1);
        try {
            decoder.decode(null, packet, out);
        } finally {
            content.readerIndex(start);
        }
        return (DatagramDnsQuery) out.get(0);
    }

    /** The wire form of {@code response}, in a buffer from {@code allocator} that the caller owns. */
    @SuppressWarnings("unchecked")
    ByteBuf encode(DatagramDnsResponse response, ByteBufAllocator allocator) throws Exception {
        List<Object> out = new ArrayList<>(1);
        // A DatagramDnsResponse is the envelope the encoder takes (typed by its own class).
        encoder.encode(allocator, (AddressedEnvelope<DnsResponse, InetSocketAddress>) (AddressedEnvelope<?, ?>) response,
                out);
        return ((DatagramPacket) out.get(0)).content();
    }

    /** Exposes the codec's decoding step; the context is not used by it. */
    private static final class Decoder extends DatagramDnsQueryDecoder {
        @Override
        protected void decode(ChannelHandlerContext context, DatagramPacket packet, List<Object> out)
                throws Exception {
            super.decode(context, packet, out);
        }
    }

    /** Exposes the codec's encoding step, with the buffer from a given allocator instead of a context's. */
    private static final class Encoder extends DatagramDnsResponseEncoder {
        private ByteBufAllocator allocator;

        void encode(ByteBufAllocator with, AddressedEnvelope<DnsResponse, InetSocketAddress> response,
                List<Object> out) throws Exception {
            allocator = with;
            encode((ChannelHandlerContext) null, response, out);
        }

        @Override
        protected ByteBuf allocateBuffer(ChannelHandlerContext context,
                AddressedEnvelope<DnsResponse, InetSocketAddress> response) {
            return allocator.ioBuffer(512);
        }
    }
}
