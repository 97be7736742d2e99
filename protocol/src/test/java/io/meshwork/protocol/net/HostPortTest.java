package io.meshwork.protocol.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostPortTest {

    @ParameterizedTest
    @CsvSource({
        "stun.example.net:3478, stun.example.net, 3478",
        "stun.example.net, stun.example.net, 3478",
        "192.0.2.1:3340, 192.0.2.1, 3340",
        "[2001:db8::1]:51820, 2001:db8::1, 51820",
        "[2001:db8::1], 2001:db8::1, 3478",
        "' 192.0.2.1:0 ', 192.0.2.1, 0",
    })
    void parsesHostAndPort(String text, String host, int port) {
        HostPort parsed = HostPort.parse(text, HostPort.DEFAULT_STUN_PORT);
        assertEquals(new HostPort(host, port), parsed);
        assertEquals(parsed, HostPort.parse(parsed.toString(), 1), "writes back what it reads");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "2001:db8::1:3478", "[2001:db8::1", "[2001:db8::1]3478", "[not-v6]:1",
        "host:", "host:port", "host:65536", "host:-1", ":3478", "ho st:1", "host:1:2", "a/b:1"})
    void refusesEveryMalformedVariant(String text) {
        assertThrows(InvalidAddressException.class, () -> HostPort.parse(text, 3478));
    }

    @Test
    void endpointsAreLiteralsWithARealPort() {
        assertEquals(new InetSocketAddress(IpLiteral.parse("192.0.2.1"), 51820),
                HostPort.parseEndpoint("192.0.2.1:51820"));
        assertEquals("[2001:db8::1]:51820", IpLiteral.format(HostPort.parseEndpoint("[2001:db8::1]:51820")));
        for (String bad : new String[] {"192.0.2.1", "192.0.2.1:0", "example.com:1", "[::1]", "999.0.0.1:1"}) {
            assertThrows(InvalidAddressException.class, () -> HostPort.parseEndpoint(bad), bad);
        }
    }

    @Test
    void anIpv4MappedLiteralStaysIpv6() {
        assertEquals(16, IpLiteral.parse("::ffff:192.0.2.1").getAddress().length);
        assertEquals(16, IpLiteral.of(IpLiteral.parse("::ffff:192.0.2.1").getAddress()).getAddress().length);
        assertEquals("::ffff:0:0/96", Prefix.parse("::ffff:10.0.0.0/96").toString());
        assertEquals(true, Prefix.parse("::ffff:10.0.0.0/104").contains(IpLiteral.parse("::ffff:10.1.2.3")));
        assertEquals(4, IpLiteral.parse("192.0.2.1").getAddress().length);
    }

    @Test
    void ipv6IsWrittenInTheShortFormEverywhere() {
        assertEquals("fd7a:115c::1:0:0:2", IpLiteral.format(IpLiteral.parse("fd7a:115c:0:0:1:0:0:2")));
        assertEquals("2001:db8::", IpLiteral.format(IpLiteral.parse("2001:db8:0:0:0:0:0:0")));
        assertEquals("::", IpLiteral.format(IpLiteral.parse("::")));
        assertEquals("[::1]:5", IpLiteral.format(new InetSocketAddress(IpLiteral.parse("::1"), 5)));
        assertEquals("10.0.0.1:5", IpLiteral.format(new InetSocketAddress(IpLiteral.parse("10.0.0.1"), 5)));
    }
}
