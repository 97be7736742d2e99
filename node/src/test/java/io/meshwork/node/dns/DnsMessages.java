package io.meshwork.node.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryEncoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetSocketAddress;

/** Queries and answers as a client and an upstream write them, with Netty's codec in embedded channels. */
final class DnsMessages {

    static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);
    static final InetSocketAddress SERVER = new InetSocketAddress("100.100.100.100", 53);

    private DnsMessages() {}

    /** A query's bytes; {@code ednsPayload} below 0 for none. */
    static byte[] query(int id, String name, DnsRecordType type, int ednsPayload) {
        return query(id, name, type, DnsRecord.CLASS_IN, DnsOpCode.QUERY, ednsPayload);
    }

    static byte[] query(int id, String name, DnsRecordType type, int dnsClass, DnsOpCode opCode, int ednsPayload) {
        DatagramDnsQuery query = new DatagramDnsQuery(CLIENT, SERVER, id, opCode);
        query.setRecursionDesired(true);
        query.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(name, type, dnsClass));
        if (ednsPayload >= 0) {
            query.addRecord(DnsSection.ADDITIONAL, new DefaultDnsRawRecord("", DnsRecordType.OPT, ednsPayload, 0,
                    Unpooled.EMPTY_BUFFER));
        }
        EmbeddedChannel channel = new EmbeddedChannel(new DatagramDnsQueryEncoder());
        channel.writeOutbound(query);
        DatagramPacket packet = channel.readOutbound();
        byte[] bytes = ByteBufUtil.getBytes(packet.content());
        packet.release();
        channel.finishAndReleaseAll();
        return bytes;
    }

    /** The answer in {@code bytes}; the caller releases it. */
    static DnsResponse decode(byte[] bytes) {
        EmbeddedChannel channel = new EmbeddedChannel(new DatagramDnsResponseDecoder());
        channel.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(bytes), SERVER, CLIENT));
        DnsResponse response = channel.readInbound();
        channel.finishAndReleaseAll();
        return response;
    }

    /** An upstream's answer to {@code query} with one A record of {@code ttl}, padded with TXT to {@code size}. */
    static byte[] upstreamAnswer(byte[] queryBytes, String address, int ttl, int txtRecords) {
        DnsResponse asked = null;
        EmbeddedChannel in = new EmbeddedChannel(new io.netty.handler.codec.dns.DatagramDnsQueryDecoder());
        in.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(queryBytes), SERVER, CLIENT));
        DatagramDnsQuery query = in.readInbound();
        in.finishAndReleaseAll();
        DatagramDnsResponse response = new DatagramDnsResponse(SERVER, CLIENT, query.id(), DnsOpCode.QUERY,
                DnsResponseCode.NOERROR);
        response.setRecursionDesired(true).setRecursionAvailable(true);
        var question = query.recordAt(DnsSection.QUESTION);
        response.addRecord(DnsSection.QUESTION, question);
        byte[] ip = io.meshwork.protocol.net.IpLiteral.parse(address).getAddress();
        response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(), DnsRecordType.A, ttl,
                Unpooled.wrappedBuffer(ip)));
        for (int i = 0; i < txtRecords; i++) {
            ByteBuf text = Unpooled.buffer().writeByte(200).writeZero(200);
            response.addRecord(DnsSection.ADDITIONAL, new DefaultDnsRawRecord(question.name(), DnsRecordType.TXT,
                    ttl, text));
        }
        EmbeddedChannel out = new EmbeddedChannel(new DatagramDnsResponseEncoder());
        out.writeOutbound(response);
        DatagramPacket packet = out.readOutbound();
        byte[] bytes = ByteBufUtil.getBytes(packet.content());
        packet.release();
        out.finishAndReleaseAll();
        query.release();
        return bytes;
    }
}
