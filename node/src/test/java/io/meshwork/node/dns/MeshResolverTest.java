package io.meshwork.node.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.DnsRecord;
import io.meshwork.protocol.net.Prefix;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsPtrRecord;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The resolver's answers from its zone, one test per record type and per kind of answer, decoded with Netty's own
 * codec as a client would.
 */
class MeshResolverTest {

    static final List<Prefix> OVERLAY = List.of(Prefix.parse("100.64.0.0/10"), Prefix.parse("fd12:3456:789a::/64"));
    static final List<DnsZone.Device> DEVICES = List.of(
            new DnsZone.Device("d-self", "laptop", List.of("100.64.0.1", "fd12:3456:789a::1")),
            new DnsZone.Device("d-db", "db-1", List.of("100.64.0.2", "fd12:3456:789a::2")),
            new DnsZone.Device("d-odd", "Build Server_2", List.of("100.64.0.3")));
    static final List<DnsRecord> CUSTOM = List.of(
            new DnsRecord("r1", "www", "CNAME", "db-1", 0),
            new DnsRecord("r2", "api.meshwork.internal", "A", "192.0.2.10", 120),
            new DnsRecord("r3", "api", "AAAA", "2001:db8::10", 0),
            new DnsRecord("r4", "info", "TXT", "x".repeat(300), 0),
            new DnsRecord("r5", "_pg._tcp", "SRV", "10 5 5432 db-1", 0),
            new DnsRecord("r6", "ext", "CNAME", "example.com.", 0));

    private final DnsStats stats = new DnsStats();
    private final MeshResolver resolver = new MeshResolver(
            DnsZone.build("meshwork.internal", DEVICES, CUSTOM, OVERLAY), null, stats);
    private final DnsCodec codec = new DnsCodec();
    private final List<DnsResponse> decoded = new ArrayList<>();

    @AfterEach
    void release() {
        decoded.forEach(DnsResponse::release);
    }

    /** The raw answer to {@code query}, or null when the resolver sent none. */
    private byte[] raw(byte[] query, boolean tcp) {
        List<byte[]> replies = new ArrayList<>();
        resolver.handle(Unpooled.wrappedBuffer(query), DnsMessages.CLIENT, DnsMessages.SERVER, tcp, codec,
                ByteBufAllocator.DEFAULT, answer -> {
                    replies.add(ByteBufUtil.getBytes(answer));
                    answer.release();
                });
        assertTrue(replies.size() <= 1, "at most one answer");
        return replies.isEmpty() ? null : replies.get(0);
    }

    private DnsResponse ask(String name, DnsRecordType type) {
        return ask(DnsMessages.query(4242, name, type, -1), false);
    }

    private DnsResponse ask(byte[] query, boolean tcp) {
        byte[] answer = raw(query, tcp);
        assertNotNull(answer, "an answer");
        DnsResponse response = DnsMessages.decode(answer);
        decoded.add(response);
        return response;
    }

    private static List<String> addresses(DnsResponse response, DnsRecordType type) throws Exception {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < response.count(DnsSection.ANSWER); i++) {
            var record = response.recordAt(DnsSection.ANSWER, i);
            if (record.type() == type) {
                out.add(InetAddress.getByAddress(ByteBufUtil.getBytes(((DnsRawRecord) record).content()))
                        .getHostAddress());
            }
        }
        return out;
    }

    @Test
    void answersAForAPeerAndForItselfWithTheMeshTtl() throws Exception {
        DnsResponse peer = ask("db-1.meshwork.internal", DnsRecordType.A);
        assertEquals(DnsResponseCode.NOERROR, peer.code());
        assertEquals(4242, peer.id());
        assertTrue(peer.isAuthoritativeAnswer());
        assertEquals(List.of("100.64.0.2"), addresses(peer, DnsRecordType.A));
        assertEquals(DnsZone.MESH_TTL_SECONDS, peer.recordAt(DnsSection.ANSWER).timeToLive());
        assertEquals(List.of("100.64.0.1"), addresses(ask("laptop.meshwork.internal.", DnsRecordType.A),
                DnsRecordType.A));
    }

    @Test
    void answersAaaaFromTheUlaAddress() throws Exception {
        assertEquals(List.of("fd12:3456:789a:0:0:0:0:2"),
                addresses(ask("db-1.meshwork.internal", DnsRecordType.AAAA), DnsRecordType.AAAA));
    }

    @Test
    void namesAreCaseInsensitive() throws Exception {
        assertEquals(List.of("100.64.0.2"), addresses(ask("DB-1.MeshWork.Internal", DnsRecordType.A),
                DnsRecordType.A));
    }

    @Test
    void aHostnameThatIsNoDnsLabelAnswersUnderItsSafeForm() throws Exception {
        assertEquals(List.of("100.64.0.3"), addresses(ask("build-server-2.meshwork.internal", DnsRecordType.A),
                DnsRecordType.A));
    }

    @Test
    void answersPtrForOverlayAddressesOfBothFamilies() {
        DnsResponse v4 = ask("2.0.64.100.in-addr.arpa", DnsRecordType.PTR);
        assertEquals(DnsResponseCode.NOERROR, v4.code());
        assertEquals("db-1.meshwork.internal.", ((DnsPtrRecord) v4.recordAt(DnsSection.ANSWER)).hostname());
        String v6 = DnsZone.reverseName(io.meshwork.protocol.net.IpLiteral.parse("fd12:3456:789a::2"));
        DnsResponse six = ask(v6, DnsRecordType.PTR);
        assertEquals("db-1.meshwork.internal.", ((DnsPtrRecord) six.recordAt(DnsSection.ANSWER)).hostname());
    }

    @Test
    void anOverlayAddressNoDeviceHasIsNxdomainInsteadOfForwarded() {
        assertEquals(DnsResponseCode.NXDOMAIN, ask("9.9.64.100.in-addr.arpa", DnsRecordType.PTR).code());
    }

    @Test
    void anUnknownMeshNameIsNxdomainWithTheSoaForNegativeCaching() {
        DnsResponse response = ask("nobody.meshwork.internal", DnsRecordType.A);
        assertEquals(DnsResponseCode.NXDOMAIN, response.code());
        assertEquals(0, response.count(DnsSection.ANSWER));
        assertEquals(DnsRecordType.SOA, response.recordAt(DnsSection.AUTHORITY).type());
    }

    @Test
    void aTypeTheNameLacksIsNoDataNotNxdomain() {
        DnsResponse response = ask("build-server-2.meshwork.internal", DnsRecordType.AAAA);
        assertEquals(DnsResponseCode.NOERROR, response.code());
        assertEquals(0, response.count(DnsSection.ANSWER));
        assertEquals(DnsRecordType.SOA, response.recordAt(DnsSection.AUTHORITY).type());
    }

    @Test
    void customAAndAaaaRecordsWithTheirTtls() throws Exception {
        DnsResponse a = ask("api.meshwork.internal", DnsRecordType.A);
        assertEquals(List.of("192.0.2.10"), addresses(a, DnsRecordType.A));
        assertEquals(120, a.recordAt(DnsSection.ANSWER).timeToLive());
        DnsResponse aaaa = ask("api.meshwork.internal", DnsRecordType.AAAA);
        assertEquals(List.of("2001:db8:0:0:0:0:0:10"), addresses(aaaa, DnsRecordType.AAAA));
        assertEquals(DnsZone.DEFAULT_RECORD_TTL_SECONDS, aaaa.recordAt(DnsSection.ANSWER).timeToLive());
    }

    @Test
    void aCnameInTheZoneComesWithItsTargetsAddresses() throws Exception {
        DnsResponse response = ask("www.meshwork.internal", DnsRecordType.A);
        assertEquals(DnsRecordType.CNAME, response.recordAt(DnsSection.ANSWER, 0).type());
        assertEquals(List.of("100.64.0.2"), addresses(response, DnsRecordType.A));
        DnsResponse outside = ask("ext.meshwork.internal", DnsRecordType.A);
        assertEquals(1, outside.count(DnsSection.ANSWER));
        byte[] target = ByteBufUtil.getBytes(((DnsRawRecord) outside.recordAt(DnsSection.ANSWER)).content());
        assertEquals("\u0007example\u0003com\u0000", new String(target, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void aLongTxtIsSplitIntoCharacterStrings() {
        byte[] txt = ByteBufUtil.getBytes(((DnsRawRecord) ask(DnsMessages.query(1, "info.meshwork.internal",
                DnsRecordType.TXT, 1232), false).recordAt(DnsSection.ANSWER)).content());
        assertEquals(302, txt.length);
        assertEquals(255, txt[0] & 0xFF);
        assertEquals(45, txt[256] & 0xFF);
    }

    @Test
    void srvHasPriorityWeightPortAndAnUncompressedTarget() {
        ByteBuf srv = Unpooled.wrappedBuffer(ByteBufUtil.getBytes(((DnsRawRecord) ask("_pg._tcp.meshwork.internal",
                DnsRecordType.SRV).recordAt(DnsSection.ANSWER)).content()));
        assertEquals(10, srv.getUnsignedShort(0));
        assertEquals(5, srv.getUnsignedShort(2));
        assertEquals(5432, srv.getUnsignedShort(4));
        assertEquals(4, srv.getUnsignedByte(6), "first label of db-1.meshwork.internal");
    }

    @Test
    void ednsQueriesGetAnOptRecordBack() {
        DnsResponse response = ask(DnsMessages.query(7, "db-1.meshwork.internal", DnsRecordType.A, 4096), false);
        assertEquals(DnsRecordType.OPT, response.recordAt(DnsSection.ADDITIONAL).type());
        assertEquals(MeshResolver.MAX_UDP_PAYLOAD, response.recordAt(DnsSection.ADDITIONAL).dnsClass());
        assertEquals(0, ask("db-1.meshwork.internal", DnsRecordType.A).count(DnsSection.ADDITIONAL));
    }

    @Test
    void anAnswerTooLargeForPlainUdpIsTruncatedAndWholeOverTcp() {
        byte[] query = DnsMessages.query(9, "info.meshwork.internal", DnsRecordType.TXT, -1);
        List<DnsRecord> many = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            many.add(new DnsRecord("t" + i, "big", "TXT", Integer.toString(i).repeat(200), 0));
        }
        resolver.zone(DnsZone.build("meshwork.internal", DEVICES, many, OVERLAY));
        byte[] bigQuery = DnsMessages.query(9, "big.meshwork.internal", DnsRecordType.TXT, -1);
        DnsResponse udp = ask(bigQuery, false);
        assertTrue(udp.isTruncated());
        assertEquals(0, udp.count(DnsSection.ANSWER));
        DnsResponse tcp = ask(bigQuery, true);
        assertTrue(!tcp.isTruncated());
        assertEquals(4, tcp.count(DnsSection.ANSWER));
        assertNotNull(raw(query, false));
    }

    @Test
    void theApexAnswersSoa() {
        assertEquals(DnsRecordType.SOA, ask("meshwork.internal", DnsRecordType.SOA).recordAt(DnsSection.ANSWER)
                .type());
    }

    @Test
    void otherOpcodesGetNotimpAndOtherClassesRefused() {
        assertEquals(DnsResponseCode.NOTIMP, ask(DnsMessages.query(3, "db-1.meshwork.internal", DnsRecordType.A,
                1, DnsOpCode.STATUS, -1), false).code());
        assertEquals(DnsResponseCode.REFUSED, ask(DnsMessages.query(3, "db-1.meshwork.internal", DnsRecordType.A,
                3, DnsOpCode.QUERY, -1), false).code());
    }

    @Test
    void aZoneSwappedInIsWhatTheNextQuerySees() throws Exception {
        List<DnsZone.Device> renamed = List.of(DEVICES.get(0),
                new DnsZone.Device("d-db", "db-2", List.of("100.64.0.2")));
        resolver.zone(DnsZone.build("meshwork.internal", renamed, List.of(), OVERLAY));
        assertEquals(DnsResponseCode.NXDOMAIN, ask("db-1.meshwork.internal", DnsRecordType.A).code());
        assertEquals(List.of("100.64.0.2"), addresses(ask("db-2.meshwork.internal", DnsRecordType.A),
                DnsRecordType.A));
        resolver.zone(DnsZone.build("corp.example", renamed, List.of(), OVERLAY));
        assertEquals(List.of("100.64.0.2"), addresses(ask("db-2.corp.example", DnsRecordType.A),
                DnsRecordType.A));
    }

    @Test
    void devicesWithTheSameNameShareItWithAllTheirAddresses() throws Exception {
        List<DnsZone.Device> twins = List.of(new DnsZone.Device("a", "web", List.of("100.64.0.5")),
                new DnsZone.Device("b", "WEB", List.of("100.64.0.6")));
        resolver.zone(DnsZone.build("meshwork.internal", twins, List.of(), OVERLAY));
        List<String> found = addresses(ask("web.meshwork.internal", DnsRecordType.A), DnsRecordType.A);
        assertEquals(2, found.size());
        assertTrue(found.containsAll(List.of("100.64.0.5", "100.64.0.6")), found.toString());
    }

    @Test
    void aNameOutsideTheZoneWithoutAForwarderIsRefused() {
        assertEquals(DnsResponseCode.REFUSED, ask("example.com", DnsRecordType.A).code());
    }

    @Test
    void aPreparedAnswerCarriesEachQuerysIdFlagsQuestionAndEdns() throws Exception {
        byte[] first = raw(DnsMessages.query(1, "db-1.meshwork.internal", DnsRecordType.A, -1), false);
        for (int i = 0; i < 3; i++) {
            byte[] query = DnsMessages.query(1000 + i, i == 1 ? "DB-1.meshwork.INTERNAL" : "db-1.meshwork.internal",
                    DnsRecordType.A, i == 2 ? 1232 : -1);
            DnsResponse again = ask(query, false);
            assertEquals(1000 + i, again.id());
            assertTrue(again.isRecursionDesired());
            assertTrue(again.isAuthoritativeAnswer());
            assertEquals(i == 1 ? "DB-1.meshwork.INTERNAL." : "db-1.meshwork.internal.",
                    again.recordAt(DnsSection.QUESTION).name(), "the question as asked");
            assertEquals(List.of("100.64.0.2"), addresses(again, DnsRecordType.A));
            assertEquals(i == 2 ? 1 : 0, again.count(DnsSection.ADDITIONAL), "an OPT record for an EDNS query");
            if (i == 2) {
                assertEquals(DnsRecordType.OPT, again.recordAt(DnsSection.ADDITIONAL).type());
            }
        }
        byte[] same = raw(DnsMessages.query(1, "db-1.meshwork.internal", DnsRecordType.A, -1), false);
        assertEquals(java.util.HexFormat.of().formatHex(first), java.util.HexFormat.of().formatHex(same),
                "prepared and encoded answers are the same bytes");
    }
}
