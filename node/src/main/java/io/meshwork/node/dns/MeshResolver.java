package io.meshwork.node.dns;

import io.meshwork.protocol.dns.DnsNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the node's resolver does with one query (docs/architecture.md, "Names"): names of its {@link DnsZone} (the
 * organization's domain, reverse names of the overlay) are answered from the zone, authoritatively (NXDOMAIN for a
 * mesh name no device has); every other name goes to the {@link UpstreamForwarder}. A query that does not decode,
 * or does not hold exactly one question, is dropped and counted: a resolver on every node must never be made to
 * fail by what it is sent. Other opcodes get NOTIMP, other classes under the domain REFUSED.
 *
 * <p>EDNS0 (RFC 6891): a query with an OPT record gets one back, and answers up to its UDP payload size (at most
 * {@value #MAX_UDP_PAYLOAD}); without one, 512 octets. A larger answer goes out truncated, and the client asks
 * again over TCP.
 */
final class MeshResolver {

    private static final Logger log = LoggerFactory.getLogger(MeshResolver.class);
    /** RFC 1035 §4.2.1. */
    static final int PLAIN_UDP_LIMIT = 512;
    /** The payload size this resolver announces and accepts at most (the DNS flag day 2020 value). */
    static final int MAX_UDP_PAYLOAD = 1232;
    static final int TCP_LIMIT = 65535;

    private final DnsStats stats;
    private final UpstreamForwarder forwarder;
    private volatile DnsZone zone;

    MeshResolver(DnsZone zone, UpstreamForwarder forwarder, DnsStats stats) {
        this.zone = zone;
        this.forwarder = forwarder;
        this.stats = stats;
    }

    void zone(DnsZone next) {
        zone = next;
    }

    DnsZone zone() {
        return zone;
    }

    /**
     * Handles the query in {@code raw} from {@code client} to {@code local}; {@code reply} gets the answer (a
     * buffer it owns) at most once, possibly later and on another thread. Never throws for what {@code raw} holds.
     *
     * @param tcp whether it came over TCP (answers up to 64 KiB) rather than UDP
     */
    void handle(ByteBuf raw, InetSocketAddress client, InetSocketAddress local, boolean tcp, DnsCodec codec,
            ByteBufAllocator allocator, Consumer<ByteBuf> reply) {
        stats.queries.increment();
        DatagramDnsQuery query;
        try {
            query = codec.decode(new DatagramPacket(raw, local, client));
        } catch (Exception | LinkageError e) {
            malformed(client, e.toString());
            return;
        }
        try {
            int start = raw.readerIndex();
            if (query.count(DnsSection.QUESTION) != 1 || query.count(DnsSection.ANSWER) != 0
                    || raw.getUnsignedShort(start + 6) != 0
                    || raw.getUnsignedShort(start + 8) != query.count(DnsSection.AUTHORITY)
                    || raw.getUnsignedShort(start + 10) != query.count(DnsSection.ADDITIONAL)) {
                // The codec stops at the first record that is not there; the header's counts must all be met.
                malformed(client, "counts " + raw.getUnsignedShort(start + 4) + "/" + raw.getUnsignedShort(start + 6)
                        + "/" + raw.getUnsignedShort(start + 8) + "/" + raw.getUnsignedShort(start + 10)
                        + " in the header, " + query.count() + " records decoded");
                return;
            }
            int payload = ednsPayload(query);
            int limit = tcp ? TCP_LIMIT : payload < 0 ? PLAIN_UDP_LIMIT
                    : Math.max(PLAIN_UDP_LIMIT, Math.min(payload, MAX_UDP_PAYLOAD));
            DnsQuestion question = query.recordAt(DnsSection.QUESTION);
            String name = canonical(question.name());
            DnsZone current = zone;
            if (query.opCode() != DnsOpCode.QUERY || current.authoritativeFor(name)
                    && question.dnsClass() == DnsRecord.CLASS_IN || forwarder == null) {
                stats.answered.increment();
                byte[] ready = query.opCode() == DnsOpCode.QUERY && question.dnsClass() == DnsRecord.CLASS_IN
                        ? prepared(raw, query, current, name, payload >= 0, limit, codec, allocator) : null;
                reply.accept(ready != null ? Unpooled.wrappedBuffer(ready)
                        : encode(answer(query, current, name, payload >= 0), limit, codec, allocator));
                return;
            }
            byte[] bytes = ByteBufUtil.getBytes(raw);
            int questionEnd = WireFormat.questionEnd(bytes, bytes.length);
            String key = name + '/' + question.type().intValue() + '/' + question.dnsClass()
                    + (payload >= 0 ? "/e" : "");
            forwarder.forward(bytes, questionEnd, key, limit, answer -> reply.accept(Unpooled.wrappedBuffer(answer)));
        } catch (Exception | LinkageError e) {
            malformed(client, e.toString());
        } finally {
            query.release();
        }
    }

    private void malformed(InetSocketAddress client, String why) {
        stats.dropped.increment();
        log.debug("dropping a malformed DNS query from {}: {}", client, why);
    }

    /**
     * The answer to a standard query from the zone's prepared answers (encoded once per name and type, id zero):
     * copied, given the query's id, recursion-desired flag and question (its letter case), and an OPT record when
     * the query had one. Null when it cannot be served so (the question is not written as the prepared one is, or
     * the answer is larger than {@code limit}): the caller encodes it in full.
     */
    private static byte[] prepared(ByteBuf raw, DatagramDnsQuery query, DnsZone zone, String name, boolean edns,
            int limit, DnsCodec codec, ByteBufAllocator allocator) throws Exception {
        DnsQuestion question = query.recordAt(DnsSection.QUESTION);
        String key = name + '/' + question.type().intValue();
        byte[] prepared = zone.preparedAnswer(key);
        if (prepared == null) {
            if (!zone.mayPrepare(name)) {
                return null;
            }
            ByteBuf encoded = codec.encode(answer(query, zone, name, false), allocator);
            try {
                prepared = ByteBufUtil.getBytes(encoded);
            } finally {
                encoded.release();
            }
            WireFormat.setId(prepared, 0);
            prepared[2] &= ~0x01;
            zone.prepare(key, prepared);
        }
        int start = raw.readerIndex();
        int questionLength = WireFormat.questionEnd(prepared, prepared.length) - WireFormat.HEADER_LENGTH;
        int size = prepared.length + (edns ? OPT_RECORD.length : 0);
        if (size > limit || raw.readableBytes() < WireFormat.HEADER_LENGTH + questionLength
                || raw.getUnsignedByte(start + WireFormat.HEADER_LENGTH + questionLength - 5) != 0) {
            return null;
        }
        byte[] answer = java.util.Arrays.copyOf(prepared, size);
        WireFormat.setId(answer, query.id());
        answer[2] |= (byte) (raw.getByte(start + 2) & 0x01);
        raw.getBytes(start + WireFormat.HEADER_LENGTH, answer, WireFormat.HEADER_LENGTH, questionLength);
        if (edns) {
            System.arraycopy(OPT_RECORD, 0, answer, prepared.length, OPT_RECORD.length);
            int additional = ((answer[10] & 0xFF) << 8 | answer[11] & 0xFF) + 1;
            answer[10] = (byte) (additional >> 8);
            answer[11] = (byte) additional;
        }
        return answer;
    }

    /** RFC 6891 §6.1.2: root name, type OPT, our UDP payload size, no extended flags, no options. */
    private static final byte[] OPT_RECORD = {0, 0, 41, (byte) (MAX_UDP_PAYLOAD >> 8), (byte) MAX_UDP_PAYLOAD,
        0, 0, 0, 0, 0, 0};

    /** The encoded answer, or when it is larger than {@code limit}, the same with TC set and no records. */
    private static ByteBuf encode(DatagramDnsResponse response, int limit, DnsCodec codec, ByteBufAllocator allocator)
            throws Exception {
        try {
            ByteBuf encoded = codec.encode(response, allocator);
            if (encoded.readableBytes() <= limit) {
                return encoded;
            }
            encoded.release();
            DatagramDnsResponse truncated = new DatagramDnsResponse(response.sender(), response.recipient(),
                    response.id(), response.opCode(), response.code());
            try {
                truncated.setTruncated(true).setAuthoritativeAnswer(true)
                        .setRecursionDesired(response.isRecursionDesired()).setRecursionAvailable(true);
                truncated.addRecord(DnsSection.QUESTION, response.recordAt(DnsSection.QUESTION));
                return codec.encode(truncated, allocator);
            } finally {
                truncated.release();
            }
        } finally {
            response.release();
        }
    }

    /** The UDP payload size of the query's OPT record, or -1 without one. */
    private static int ednsPayload(DatagramDnsQuery query) {
        int additional = query.count(DnsSection.ADDITIONAL);
        for (int i = 0; i < additional; i++) {
            DnsRecord record = query.recordAt(DnsSection.ADDITIONAL, i);
            if (record.type() == DnsRecordType.OPT) {
                return record.dnsClass();
            }
        }
        return -1;
    }

    /** Lowercase, without the trailing dot. */
    static String canonical(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    /** The zone's answer to {@code query} about {@code name}. */
    static DatagramDnsResponse answer(DatagramDnsQuery query, DnsZone zone, String name, boolean edns) {
        DnsQuestion question = query.recordAt(DnsSection.QUESTION);
        DnsResponseCode code = DnsResponseCode.NOERROR;
        List<DnsRecord> answers = List.of();
        boolean negative = false;
        if (query.opCode() != DnsOpCode.QUERY) {
            code = DnsResponseCode.NOTIMP;
        } else if (question.dnsClass() != DnsRecord.CLASS_IN) {
            code = DnsResponseCode.REFUSED;
        } else if (!zone.authoritativeFor(name)) {
            code = DnsResponseCode.REFUSED;
        } else if (!DnsNames.isUnder(name, zone.domain())) {
            DnsRecord pointer = question.type() == DnsRecordType.PTR || question.type() == DnsRecordType.ANY
                    ? zone.pointer(name) : null;
            if (pointer != null) {
                answers = List.of(pointer);
            } else if (zone.pointer(name) == null) {
                code = DnsResponseCode.NXDOMAIN;
            }
        } else {
            DnsZone.Entry entry = zone.entry(name);
            if (name.equals(zone.domain()) && question.type() == DnsRecordType.SOA) {
                answers = List.of(zone.soa());
            } else if (entry == null) {
                code = name.equals(zone.domain()) ? DnsResponseCode.NOERROR : DnsResponseCode.NXDOMAIN;
                negative = true;
            } else {
                answers = records(entry, question.type(), zone);
                negative = answers.isEmpty();
            }
        }
        DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id(),
                query.opCode(), code);
        response.setAuthoritativeAnswer(true).setRecursionDesired(query.isRecursionDesired())
                .setRecursionAvailable(true);
        response.addRecord(DnsSection.QUESTION, question);
        for (DnsRecord record : answers) {
            response.addRecord(DnsSection.ANSWER, record);
        }
        if (negative) {
            // RFC 2308 §3: the SOA tells resolvers how long to remember that there is nothing.
            response.addRecord(DnsSection.AUTHORITY, zone.soa());
        }
        if (edns) {
            response.addRecord(DnsSection.ADDITIONAL, new DefaultDnsRawRecord("", DnsRecordType.OPT,
                    MAX_UDP_PAYLOAD, 0, Unpooled.EMPTY_BUFFER));
        }
        return response;
    }

    /** The records of {@code entry} for {@code type}: a CNAME (and its target's, when in the zone) when it has none. */
    private static List<DnsRecord> records(DnsZone.Entry entry, DnsRecordType type, DnsZone zone) {
        if (type == DnsRecordType.ANY) {
            // RFC 8482 allows a subset: the addresses.
            List<DnsRecord> any = new java.util.ArrayList<>(entry.a());
            any.addAll(entry.aaaa());
            return any;
        }
        List<DnsRecord> records = entry.of(type);
        if (!records.isEmpty() || entry.cname() == null) {
            return records;
        }
        if (type == DnsRecordType.CNAME) {
            return List.of(entry.cname());
        }
        List<DnsRecord> chained = new java.util.ArrayList<>();
        chained.add(entry.cname());
        DnsZone.Entry target = zone.entry(canonical(cnameTarget(entry.cname())));
        if (target != null) {
            chained.addAll(target.of(type));
        }
        return chained;
    }

    /** The target name of a CNAME record built by the zone (uncompressed labels). */
    private static String cnameTarget(DnsRecord cname) {
        ByteBuf content = ((DefaultDnsRawRecord) cname).content();
        StringBuilder name = new StringBuilder();
        int index = content.readerIndex();
        int length;
        while ((length = content.getUnsignedByte(index)) != 0) {
            name.append(content.toString(index + 1, length, java.nio.charset.StandardCharsets.US_ASCII)).append('.');
            index += 1 + length;
        }
        return name.toString();
    }
}
