package io.meshwork.tests.dns;

import io.meshwork.protocol.net.IpLiteral;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A tiny authoritative DNS server for the lab's internet (Netty's DNS codec over a plain UDP socket): {@code NAME}
 * has one A record, every other name is NXDOMAIN. The nodes' resolvers forward names outside the mesh to it.
 */
@Command(name = "lab-dns")
public final class LabAuthoritativeServer implements Callable<Integer> {

    @Option(names = "--listen", required = true)
    String listen;

    @Option(names = "--name", required = true)
    String name;

    @Option(names = "--address", required = true)
    String address;

    @Override
    public Integer call() throws Exception {
        String wanted = name.toLowerCase(Locale.ROOT) + ".";
        byte[] ip = IpLiteral.parse(address).getAddress();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(IpLiteral.parse(listen), 53))) {
            System.out.println("lab dns ready on " + listen);
            System.out.flush();
            byte[] buffer = new byte[4096];
            while (true) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                InetSocketAddress client = (InetSocketAddress) packet.getSocketAddress();
                InetSocketAddress local = (InetSocketAddress) socket.getLocalSocketAddress();
                EmbeddedChannel in = new EmbeddedChannel(new DatagramDnsQueryDecoder());
                try {
                    in.writeInbound(new io.netty.channel.socket.DatagramPacket(Unpooled.wrappedBuffer(
                            Arrays.copyOf(packet.getData(), packet.getLength())), local, client));
                } catch (RuntimeException e) {
                    continue;
                }
                DatagramDnsQuery query = in.readInbound();
                in.finishAndReleaseAll();
                DnsQuestion question = query.recordAt(DnsSection.QUESTION);
                boolean known = question.name().toLowerCase(Locale.ROOT).equals(wanted);
                DatagramDnsResponse response = new DatagramDnsResponse(local, client, query.id(), query.opCode(),
                        known ? DnsResponseCode.NOERROR : DnsResponseCode.NXDOMAIN);
                response.setAuthoritativeAnswer(true);
                response.addRecord(DnsSection.QUESTION, question);
                if (known && question.type() == DnsRecordType.A) {
                    response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(),
                            DnsRecordType.A, 300, Unpooled.wrappedBuffer(ip)));
                }
                EmbeddedChannel out = new EmbeddedChannel(new DatagramDnsResponseEncoder());
                out.writeOutbound(response);
                io.netty.channel.socket.DatagramPacket encoded = out.readOutbound();
                byte[] bytes = ByteBufUtil.getBytes(encoded.content());
                encoded.release();
                out.finishAndReleaseAll();
                query.release();
                socket.send(new DatagramPacket(bytes, bytes.length, client));
            }
        }
    }
}
