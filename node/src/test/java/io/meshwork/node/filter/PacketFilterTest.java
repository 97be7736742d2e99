package io.meshwork.node.filter;

import static io.meshwork.node.filter.Packets.concat;
import static io.meshwork.node.filter.Packets.extension;
import static io.meshwork.node.filter.Packets.fragment;
import static io.meshwork.node.filter.Packets.icmp;
import static io.meshwork.node.filter.Packets.icmpError;
import static io.meshwork.node.filter.Packets.ipv4;
import static io.meshwork.node.filter.Packets.ipv6;
import static io.meshwork.node.filter.Packets.tcp;
import static io.meshwork.node.filter.Packets.udp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.PolicyRule;
import io.meshwork.protocol.api.SecurityPolicy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class PacketFilterTest {

    private static final int GRE = 47;
    private static final String SELF = "100.64.0.1";
    private static final String SELF6 = "fd00::1";

    /** The device's policy in these tests. */
    static final SecurityPolicy POLICY = new SecurityPolicy(true, List.of("test"), List.of(
            new PolicyRule("tcp", 22, 22, List.of("100.64.0.0/10")),
            new PolicyRule("tcp", 8000, 8100, List.of("100.64.0.5/32")),
            new PolicyRule("udp", 53, 53, List.of("fd00::/8")),
            new PolicyRule("icmp", 0, 65535, List.of("100.64.0.7/32", "fd00::7/128")),
            new PolicyRule("any", 0, 65535, List.of("10.9.0.0/16")),
            new PolicyRule("udp", 0, 65535, List.of("fd00:aa::/32"))));

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final ConnectionTracker tracker = new ConnectionTracker(1024, Duration.ofMinutes(60),
            Duration.ofMinutes(2), now::get);
    private final PacketFilter filter = filter(POLICY, tracker);
    private final PacketHeaders headers = new PacketHeaders();

    private static PacketFilter filter(SecurityPolicy policy, ConnectionTracker tracker) {
        try {
            return PacketFilter.of(policy, tracker);
        } catch (PolicyException e) {
            throw new AssertionError(e);
        }
    }

    private Verdict in(byte[] packet) {
        return filter.inbound(ByteBuffer.wrap(packet), headers);
    }

    private void out(byte[] packet) {
        filter.outbound(ByteBuffer.wrap(packet), headers);
    }

    static Stream<Arguments> inboundWithoutFlows() {
        return Stream.of(
                Arguments.of("ssh from the overlay", ipv4("100.64.0.2", SELF, 6, tcp(40000, 22)), Verdict.ALLOWED_BY_RULE),
                Arguments.of("ssh from the top of the overlay", ipv4("100.127.255.254", SELF, 6, tcp(40000, 22)),
                        Verdict.ALLOWED_BY_RULE),
                Arguments.of("telnet from the overlay", ipv4("100.64.0.2", SELF, 6, tcp(40000, 23)), Verdict.DENIED),
                Arguments.of("ssh from outside the prefix", ipv4("100.128.0.1", SELF, 6, tcp(40000, 22)), Verdict.DENIED),
                Arguments.of("udp to the ssh port", ipv4("100.64.0.2", SELF, 17, udp(40000, 22)), Verdict.DENIED),
                Arguments.of("range: first port", ipv4("100.64.0.5", SELF, 6, tcp(1, 8000)), Verdict.ALLOWED_BY_RULE),
                Arguments.of("range: last port", ipv4("100.64.0.5", SELF, 6, tcp(1, 8100)), Verdict.ALLOWED_BY_RULE),
                Arguments.of("range: below", ipv4("100.64.0.5", SELF, 6, tcp(1, 7999)), Verdict.DENIED),
                Arguments.of("range: above", ipv4("100.64.0.5", SELF, 6, tcp(1, 8101)), Verdict.DENIED),
                Arguments.of("range: other host", ipv4("100.64.0.6", SELF, 6, tcp(1, 8050)), Verdict.DENIED),
                Arguments.of("source port does not count", ipv4("100.64.0.6", SELF, 6, tcp(8050, 9)), Verdict.DENIED),
                Arguments.of("IPv6 dns", ipv6("fd00::2", SELF6, 17, udp(5353, 53)), Verdict.ALLOWED_BY_RULE),
                Arguments.of("IPv6 dns over tcp", ipv6("fd00::2", SELF6, 6, tcp(5353, 53)), Verdict.DENIED),
                Arguments.of("IPv6 dns from outside fd00::/8", ipv6("fe80::2", SELF6, 17, udp(5353, 53)), Verdict.DENIED),
                Arguments.of("IPv4 rule never matches IPv6", ipv6("::ffff:100.64.0.2", SELF6, 6, tcp(1, 22)), Verdict.DENIED),
                Arguments.of("ping from the icmp host", ipv4("100.64.0.7", SELF, 1, icmp(8, 0, 5)), Verdict.ALLOWED_BY_RULE),
                Arguments.of("ping from another host", ipv4("100.64.0.2", SELF, 1, icmp(8, 0, 5)), Verdict.DENIED),
                Arguments.of("ICMPv6 ping", ipv6("fd00::7", SELF6, 58, icmp(128, 0, 5)), Verdict.ALLOWED_BY_RULE),
                Arguments.of("ICMPv6 from another host", ipv6("fd00::8", SELF6, 58, icmp(128, 0, 5)), Verdict.DENIED),
                Arguments.of("any: gre", ipv4("10.9.3.4", SELF, GRE, new byte[8]), Verdict.ALLOWED_BY_RULE),
                Arguments.of("any: tcp high port", ipv4("10.9.3.4", SELF, 6, tcp(1, 65535)), Verdict.ALLOWED_BY_RULE),
                Arguments.of("gre without an any rule", ipv4("100.64.0.2", SELF, GRE, new byte[8]), Verdict.DENIED),
                Arguments.of("unsolicited echo reply", ipv4("100.64.0.9", SELF, 1, icmp(0, 0, 77)), Verdict.DENIED),
                Arguments.of("IPv6 hop-by-hop then tcp", ipv6("fd00::2", SELF6, 0, extension(17, udp(1, 53))),
                        Verdict.ALLOWED_BY_RULE),
                Arguments.of("IPv6 two extension headers", ipv6("fd00::2", SELF6, 0, extension(60, extension(17,
                        udp(1, 54)))), Verdict.DENIED),
                Arguments.of("IPv4 first fragment", ipv4("100.64.0.2", SELF, 6, 0x2000, tcp(1, 22)),
                        Verdict.ALLOWED_BY_RULE),
                Arguments.of("IPv4 later fragment, port rule", ipv4("100.64.0.2", SELF, 6, 0x0010, new byte[16]),
                        Verdict.DENIED),
                Arguments.of("IPv4 later fragment, any rule", ipv4("10.9.0.1", SELF, 6, 0x2010, new byte[16]),
                        Verdict.ALLOWED_BY_RULE),
                Arguments.of("IPv6 first fragment", ipv6("fd00::2", SELF6, 44, fragment(17, 0, true, udp(1, 53))),
                        Verdict.ALLOWED_BY_RULE),
                Arguments.of("IPv6 later fragment, port rule", ipv6("fd00::2", SELF6, 44,
                        fragment(17, 100, false, new byte[16])), Verdict.DENIED),
                Arguments.of("IPv6 later fragment, every-port rule", ipv6("fd00:aa::2", SELF6, 44,
                        fragment(17, 100, false, new byte[16])), Verdict.ALLOWED_BY_RULE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inboundWithoutFlows")
    void rulesDecideUnsolicitedPackets(String name, byte[] packet, Verdict expected) {
        assertEquals(expected, in(packet));
    }

    static Stream<Arguments> garbage() {
        byte[] ssh = ipv4("100.64.0.2", SELF, 6, tcp(40000, 22));
        byte[] dns6 = ipv6("fd00::2", SELF6, 17, udp(5353, 53));
        byte[] badIhl = ssh.clone();
        badIhl[0] = 0x44;
        byte[] ihlPastEnd = ipv4("100.64.0.2", SELF, 6, new byte[4]);
        ihlPastEnd[0] = 0x4F;
        byte[] longer = ssh.clone();
        longer[3] = (byte) (ssh.length + 1);
        byte[] shorterThanHeader = ssh.clone();
        shorterThanHeader[2] = 0;
        shorterThanHeader[3] = 12;
        byte[] payloadPastEnd = dns6.clone();
        payloadPastEnd[5] = (byte) (payloadPastEnd[5] + 1);
        byte[] extensionPastEnd = ipv6("fd00::2", SELF6, 0, new byte[] {17, 9, 0, 0, 0, 0, 0, 0});
        byte[] extensionLoop = ipv6("fd00::2", SELF6, 0, extension(0, extension(0, extension(0, extension(0,
                extension(0, extension(0, extension(0, extension(0, extension(17, udp(1, 53)))))))))));
        return Stream.of(
                Arguments.of("empty", new byte[0]),
                Arguments.of("one byte", new byte[] {0x45}),
                Arguments.of("version 5", concat(new byte[] {0x55}, new byte[39])),
                Arguments.of("IPv4 shorter than 20 bytes", Arrays.copyOf(ssh, 19)),
                Arguments.of("IHL below 5", badIhl),
                Arguments.of("IHL past the end", ihlPastEnd),
                Arguments.of("total length past the end", longer),
                Arguments.of("total length inside the header", shorterThanHeader),
                Arguments.of("truncated tcp header", ipv4("100.64.0.2", SELF, 6, Arrays.copyOf(tcp(1, 22), 12))),
                Arguments.of("tiny first fragment", ipv4("100.64.0.2", SELF, 6, 0x2000, Arrays.copyOf(tcp(1, 22), 8))),
                Arguments.of("truncated udp header", ipv4("100.64.0.2", SELF, 17, new byte[7])),
                Arguments.of("truncated icmp header", ipv4("100.64.0.7", SELF, 1, new byte[] {8, 0, 0, 0})),
                Arguments.of("IPv6 shorter than 40 bytes", Arrays.copyOf(dns6, 39)),
                Arguments.of("IPv6 payload length past the end", payloadPastEnd),
                Arguments.of("IPv6 extension header past the end", extensionPastEnd),
                Arguments.of("IPv6 more than eight extension headers", extensionLoop),
                Arguments.of("IPv6 truncated udp after a fragment header", ipv6("fd00::2", SELF6, 44,
                        fragment(17, 0, true, new byte[4]))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("garbage")
    void malformedPacketsAreRefused(String name, byte[] packet) {
        assertEquals(Verdict.MALFORMED, in(packet));
    }

    @Test
    void repliesToOutboundFlowsPassAndNothingElseDoes() {
        out(ipv4(SELF, "100.64.0.9", 6, tcp(50000, 443)));
        assertEquals(Verdict.ESTABLISHED, in(ipv4("100.64.0.9", SELF, 6, tcp(443, 50000))));
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 6, tcp(443, 50001))), "another local port");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 6, tcp(444, 50000))), "another remote port");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.10", SELF, 6, tcp(443, 50000))), "another host");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 17, udp(443, 50000))), "another protocol");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", "100.64.0.3", 6, tcp(443, 50000))), "another destination");

        out(ipv6(SELF6, "fd00::9", 17, udp(40000, 4789)));
        assertEquals(Verdict.ESTABLISHED, in(ipv6("fd00::9", SELF6, 17, udp(4789, 40000))));
        assertEquals(Verdict.DENIED, in(ipv6("fd00::9", SELF6, 17, udp(4789, 40001))));
        assertEquals(Verdict.DENIED, in(ipv6("fd00::1:9", SELF6, 17, udp(4789, 40000))), "differs in the low 64 bits");
        assertEquals(Verdict.DENIED, in(ipv6("fd01::9", SELF6, 17, udp(4789, 40000))), "differs in the high 64 bits");
        assertEquals(Verdict.DENIED, in(ipv6("fd00::9", SELF6, 44, fragment(17, 10, false, new byte[8]))),
                "a later fragment has no ports to match a flow by");

        out(ipv4(SELF, "100.64.0.9", 1, icmp(8, 0, 77)));
        assertEquals(Verdict.ESTABLISHED, in(ipv4("100.64.0.9", SELF, 1, icmp(0, 0, 77))), "echo reply");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 1, icmp(0, 0, 78))), "another echo identifier");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 1, icmp(8, 0, 77))), "a request is no reply");
        out(ipv6(SELF6, "fd00::9", 58, icmp(128, 0, 9)));
        assertEquals(Verdict.ESTABLISHED, in(ipv6("fd00::9", SELF6, 58, icmp(129, 0, 9))), "ICMPv6 echo reply");

        out(ipv4(SELF, "100.64.0.9", GRE, new byte[8]));
        assertEquals(Verdict.ESTABLISHED, in(ipv4("100.64.0.9", SELF, GRE, new byte[8])), "a portless protocol");
    }

    @Test
    void icmpErrorsAboutOwnFlowsAreRelated() {
        byte[] probe = ipv4(SELF, "100.64.0.9", 17, udp(5000, 33434));
        out(probe);
        assertEquals(Verdict.RELATED, in(ipv4("100.64.0.9", SELF, 1, icmpError(3, 3, probe, 28))), "port unreachable");
        assertEquals(Verdict.RELATED, in(ipv4("100.64.0.200", SELF, 1, icmpError(11, 0, probe, 28))),
                "time exceeded from a router on the way");
        byte[] other = ipv4(SELF, "100.64.0.9", 17, udp(5000, 33435));
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 1, icmpError(3, 3, other, 28))), "not a flow of ours");
        byte[] notFromUs = ipv4("100.64.0.3", "100.64.0.9", 17, udp(5000, 33434));
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 1, icmpError(3, 3, notFromUs, 28))),
                "quotes a packet someone else sent");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 1, icmpError(3, 3, probe, 22))),
                "quote too short for the ports");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 1, icmpError(5, 0, probe, 28))),
                "a redirect is not an error about the flow");

        byte[] big = ipv6(SELF6, "fd00::9", 6, tcp(40000, 443));
        out(big);
        assertEquals(Verdict.RELATED, in(ipv6("fd00::9", SELF6, 58, icmpError(2, 0, big, 60))), "packet too big");
        assertEquals(Verdict.DENIED, in(ipv6("fd00::9", SELF6, 58, icmpError(128, 0, big, 60))), "not an error type");
    }

    @Test
    void flowsExpireWhenIdleAndOutboundPacketsKeepThemAlive() {
        out(ipv4(SELF, "100.64.0.9", 17, udp(40000, 53)));
        out(ipv4(SELF, "100.64.0.9", 6, tcp(40000, 443)));
        now.addAndGet(Duration.ofSeconds(119).toNanos());
        assertEquals(Verdict.ESTABLISHED, in(ipv4("100.64.0.9", SELF, 17, udp(53, 40000))));
        out(ipv4(SELF, "100.64.0.9", 17, udp(40000, 53)));
        now.addAndGet(Duration.ofSeconds(119).toNanos());
        assertEquals(Verdict.ESTABLISHED, in(ipv4("100.64.0.9", SELF, 17, udp(53, 40000))), "refreshed by sending");
        now.addAndGet(Duration.ofSeconds(2).toNanos());
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 17, udp(53, 40000))), "idle for more than 2 min");
        assertEquals(Verdict.ESTABLISHED, in(ipv4("100.64.0.9", SELF, 6, tcp(443, 40000))), "tcp lives longer");
        now.addAndGet(Duration.ofMinutes(60).toNanos());
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.9", SELF, 6, tcp(443, 40000))));
        assertEquals(0, tracker.size());
    }

    @Test
    void theTrackerIsBoundedAndKeepsTheNewestFlows() {
        ConnectionTracker small = new ConnectionTracker(16, Duration.ofMinutes(60), Duration.ofMinutes(2), now::get);
        PacketFilter bounded = filter(POLICY, small);
        for (int port = 1; port <= 1000; port++) {
            now.incrementAndGet();
            bounded.outbound(ByteBuffer.wrap(ipv4(SELF, "100.64.0.9", 17, udp(port, 53))), headers);
        }
        assertEquals(16, small.size());
        assertEquals(1000 - 16, small.evictions());
        assertEquals(Verdict.ESTABLISHED, bounded.inbound(ByteBuffer.wrap(ipv4("100.64.0.9", SELF, 17, udp(53, 1000))),
                headers), "the newest flow survives");
        assertEquals(Verdict.DENIED, bounded.inbound(ByteBuffer.wrap(ipv4("100.64.0.9", SELF, 17, udp(53, 1))),
                headers), "the oldest was evicted");
    }

    @Test
    void aNewPolicyKeepsEstablishedFlowsAndAnOpenOneRemovesTheFilter() throws PolicyException {
        out(ipv4(SELF, "100.64.0.9", 6, tcp(50000, 443)));
        SecurityPolicy sshOnly = new SecurityPolicy(true, List.of("ssh"),
                List.of(new PolicyRule("tcp", 22, 22, List.of("100.64.0.0/10"))));
        PacketFilter next = PacketFilter.forPolicy(sshOnly, filter);
        assertEquals(Verdict.ESTABLISHED, next.inbound(ByteBuffer.wrap(ipv4("100.64.0.9", SELF, 6, tcp(443, 50000))),
                headers));
        assertEquals(Verdict.DENIED, next.inbound(ByteBuffer.wrap(ipv4("100.64.0.5", SELF, 6, tcp(1, 8000))),
                headers), "the old rule is gone");
        assertNull(PacketFilter.forPolicy(SecurityPolicy.OPEN, next));
        assertNotNull(PacketFilter.forPolicy(sshOnly, null).tracker());
        PacketFilter denyAll = PacketFilter.forPolicy(new SecurityPolicy(true, List.of("none"), List.of()), null);
        assertEquals(Verdict.DENIED, denyAll.inbound(ByteBuffer.wrap(ipv4("100.64.0.2", SELF, 6, tcp(1, 22))), headers));
        PacketFilter repliesOnly = PacketFilter.repliesOnly(next);
        assertEquals(Verdict.DENIED, repliesOnly.inbound(ByteBuffer.wrap(ipv4("100.64.0.2", SELF, 6, tcp(1, 22))),
                headers));
        assertEquals(Verdict.ESTABLISHED, repliesOnly.inbound(ByteBuffer.wrap(ipv4("100.64.0.9", SELF, 6,
                tcp(443, 50000))), headers), "fails closed but keeps the flows this device started");
    }

    @Test
    void littleEndianBuffersParseTheSame() {
        ByteBuffer packet = ByteBuffer.wrap(ipv6("fd00::2", SELF6, 17, udp(5353, 53))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Verdict.ALLOWED_BY_RULE, filter.inbound(packet, headers));
        ByteBuffer denied = ByteBuffer.wrap(ipv4("100.64.0.5", SELF, 6, tcp(1, 8101))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Verdict.DENIED, filter.inbound(denied, headers));
    }

    @Test
    void thePacketIsReadBetweenPositionAndLimitAndLeftUntouched() {
        byte[] ssh = ipv4("100.64.0.2", SELF, 6, tcp(40000, 22));
        ByteBuffer framed = ByteBuffer.allocate(ssh.length + 10);
        framed.position(4);
        framed.put(ssh);
        framed.position(4).limit(4 + ssh.length);
        assertEquals(Verdict.ALLOWED_BY_RULE, filter.inbound(framed, headers));
        assertEquals(4, framed.position());
        assertEquals(4 + ssh.length, framed.limit());
    }

    static Stream<Arguments> badPolicies() {
        return Stream.of(
                Arguments.of(new PolicyRule("sctp", 0, 65535, List.of("10.0.0.0/8")), "unknown protocol"),
                Arguments.of(new PolicyRule(null, 0, 65535, List.of("10.0.0.0/8")), "without protocol"),
                Arguments.of(new PolicyRule("tcp", 9, 1, List.of("10.0.0.0/8")), "bad port range"),
                Arguments.of(new PolicyRule("tcp", 1, 65536, List.of("10.0.0.0/8")), "bad port range"),
                Arguments.of(new PolicyRule("tcp", -1, 5, List.of("10.0.0.0/8")), "bad port range"),
                Arguments.of(new PolicyRule("tcp", 1, 5, null), "without peers"),
                Arguments.of(new PolicyRule("tcp", 1, 5, List.of("example.com/8")), "not an IP prefix"),
                Arguments.of(new PolicyRule("tcp", 1, 5, List.of("10.0.0.0/33")), "out of range"),
                Arguments.of(new PolicyRule("tcp", 1, 5, List.of("fd00::/129")), "out of range"),
                Arguments.of(new PolicyRule("tcp", 1, 5, List.of("10.0.0.0/x")), "bad prefix length"),
                Arguments.of(new PolicyRule("tcp", 1, 5, List.of("300.0.0.0/8")), "not an IP prefix"));
    }

    @ParameterizedTest(name = "{1}: {0}")
    @MethodSource("badPolicies")
    void policiesThatCannotBeEnforcedAreRefused(PolicyRule rule, String message) {
        PolicyException refused = assertThrows(PolicyException.class, () ->
                PacketFilter.of(new SecurityPolicy(true, List.of("g"), List.of(rule)), tracker));
        assertTrue(refused.getMessage().contains(message), refused.getMessage());
    }

    /**
     * A subnet router filters what it forwards with its own policy (docs/architecture.md, "Subnet routers and exit
     * nodes"): a packet for a host on its LAN is decided by the client's overlay source, as one for the router is.
     */
    @Test
    void routedPacketsToTheLanAreDecidedByTheirOriginalOverlaySource() {
        String lanHost = "10.1.0.12";
        assertEquals(Verdict.ALLOWED_BY_RULE, in(ipv4("100.64.0.2", lanHost, 6, tcp(40000, 22))),
                "ssh from the overlay to the LAN host");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.2", lanHost, 6, tcp(40000, 80))),
                "what the router's groups do not allow is not routed either");
        assertEquals(Verdict.ALLOWED_BY_RULE, in(ipv4("100.64.0.5", lanHost, 6, tcp(40000, 8050))),
                "a rule for one client lets that client alone through");
        assertEquals(Verdict.DENIED, in(ipv4("100.64.0.6", lanHost, 6, tcp(40000, 8050))));
    }
}
