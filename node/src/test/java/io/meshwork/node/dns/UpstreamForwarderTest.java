package io.meshwork.node.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.buffer.ByteBufUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Forwarding to upstream resolvers on loopback: answers, the cache, TCP after truncation, failover, SERVFAIL. */
class UpstreamForwarderTest {

    private final EventLoopGroup group = NodeDns.eventLoops(1);
    private final DnsStats stats = new DnsStats();

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static DnsResponse forward(UpstreamForwarder forwarder, byte[] query, int limit) throws Exception {
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        forwarder.forward(query, WireFormat.questionEnd(query, query.length), "key:" + new String(query, 12,
                query.length - 12, java.nio.charset.StandardCharsets.ISO_8859_1).toLowerCase(), limit, reply::complete);
        return DnsMessages.decode(reply.get(10, TimeUnit.SECONDS));
    }

    private static String firstAddress(DnsResponse response) throws Exception {
        return InetAddress.getByAddress(ByteBufUtil.getBytes(((DnsRawRecord) response.recordAt(DnsSection.ANSWER))
                .content())).getHostAddress();
    }

    @Test
    void forwardsUnderTheClientsIdAndServesTheCacheWithLoweredTtl() throws Exception {
        try (FakeUpstream upstream = new FakeUpstream("192.0.2.7", 300, 0, false, false);
                UpstreamForwarder forwarder = new UpstreamForwarder(List.of(upstream.address()), group, stats)) {
            DnsResponse first = forward(forwarder, DnsMessages.query(1111, "example.com", DnsRecordType.A, -1), 512);
            assertEquals(1111, first.id());
            assertEquals("192.0.2.7", firstAddress(first));
            assertEquals(300, first.recordAt(DnsSection.ANSWER).timeToLive());
            first.release();
            DnsResponse again = forward(forwarder, DnsMessages.query(2222, "EXAMPLE.com", DnsRecordType.A, -1), 512);
            assertEquals(2222, again.id());
            assertEquals("EXAMPLE.com.", again.recordAt(DnsSection.QUESTION).name(), "the client's letter case");
            assertEquals("192.0.2.7", firstAddress(again));
            assertTrue(again.recordAt(DnsSection.ANSWER).timeToLive() <= 300);
            again.release();
            assertEquals(1, upstream.udpQueries.get(), "the second came from the cache");
            assertEquals(1, stats.cacheHits.sum());
        }
    }

    @Test
    void aTruncatedAnswerIsAskedAgainOverTcp() throws Exception {
        try (FakeUpstream upstream = new FakeUpstream("192.0.2.8", 60, 6, true, false);
                UpstreamForwarder forwarder = new UpstreamForwarder(List.of(upstream.address()), group, stats)) {
            DnsResponse answer = forward(forwarder, DnsMessages.query(5, "big.example", DnsRecordType.A, 4096), 4096);
            assertEquals(DnsResponseCode.NOERROR, answer.code());
            assertTrue(!answer.isTruncated());
            assertEquals(7, answer.count(DnsSection.ANSWER) + answer.count(DnsSection.ADDITIONAL));
            answer.release();
            assertEquals(1, upstream.tcpQueries.get());
            DnsResponse plain = forward(forwarder, DnsMessages.query(6, "big.example", DnsRecordType.A, -1), 512);
            assertTrue(plain.isTruncated(), "too large for a client without EDNS: truncated, so it uses TCP");
            plain.release();
        }
    }

    @Test
    void aSilentUpstreamIsPassedOverForTheNext() throws Exception {
        try (FakeUpstream silent = new FakeUpstream("192.0.2.1", 60, 0, false, true);
                FakeUpstream answering = new FakeUpstream("192.0.2.9", 60, 0, false, false);
                UpstreamForwarder forwarder = new UpstreamForwarder(List.of(silent.address(), answering.address()),
                        group, stats)) {
            DnsResponse answer = forward(forwarder, DnsMessages.query(8, "next.example", DnsRecordType.A, -1), 512);
            assertEquals("192.0.2.9", firstAddress(answer));
            answer.release();
            assertEquals(1, silent.udpQueries.get());
        }
    }

    @Test
    void noUpstreamAnsweringIsServfail() throws Exception {
        try (FakeUpstream silent = new FakeUpstream("192.0.2.1", 60, 0, false, true);
                UpstreamForwarder forwarder = new UpstreamForwarder(List.of(silent.address()), group, stats);
                UpstreamForwarder none = new UpstreamForwarder(List.of(), group, stats)) {
            DnsResponse answer = forward(forwarder, DnsMessages.query(9, "gone.example", DnsRecordType.A, -1), 512);
            assertEquals(DnsResponseCode.SERVFAIL, answer.code());
            assertEquals(9, answer.id());
            answer.release();
            DnsResponse nothing = forward(none, DnsMessages.query(10, "gone.example", DnsRecordType.A, -1), 512);
            assertEquals(DnsResponseCode.SERVFAIL, nothing.code());
            nothing.release();
        }
    }

    @Test
    void anAnswerFromAnotherAddressIsNotTakenForTheUpstreams() throws Exception {
        try (FakeUpstream upstream = new FakeUpstream("192.0.2.7", 300, 0, false, true);
                UpstreamForwarder forwarder = new UpstreamForwarder(List.of(upstream.address()), group, stats);
                java.net.DatagramSocket spoofer = new java.net.DatagramSocket()) {
            byte[] query = DnsMessages.query(12, "bank.example", DnsRecordType.A, -1);
            CompletableFuture<byte[]> reply = new CompletableFuture<>();
            forwarder.forward(query, WireFormat.questionEnd(query, query.length), "bank", 512, reply::complete);
            while (upstream.udpQueries.get() == 0) {
                Thread.sleep(10);
            }
            // The spoofer cannot see the id: it tries every one, from the wrong address.
            InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    forwarderPort(forwarder));
            for (int id = 0; id < 0x10000; id++) {
                byte[] forged = DnsMessages.upstreamAnswer(query, "203.0.113.66", 300, 0);
                WireFormat.setId(forged, id);
                spoofer.send(new java.net.DatagramPacket(forged, forged.length, target));
            }
            DnsResponse answer = DnsMessages.decode(reply.get(10, TimeUnit.SECONDS));
            assertEquals(DnsResponseCode.SERVFAIL, answer.code(), "no forged answer was taken");
            answer.release();
            assertTrue(stats.dropped.sum() > 0);
        }
    }

    private static int forwarderPort(UpstreamForwarder forwarder) throws Exception {
        var field = UpstreamForwarder.class.getDeclaredField("channel");
        field.setAccessible(true);
        return ((InetSocketAddress) ((io.netty.channel.Channel) field.get(forwarder)).localAddress()).getPort();
    }
}
