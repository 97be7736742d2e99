package io.meshwork.node.dataplane;

import io.meshwork.protocol.net.Prefix;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.IpLiteral;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class AllowedIpsTest {

    private static InetAddress ip(String text) {
        return IpLiteral.parse(text);
    }

    @Test
    void longestPrefixWinsInBothFamilies() {
        AllowedIps<String> table = new AllowedIps<>();
        table.insert(Prefix.parseAddressOrPrefix("10.0.0.0/8"), "wide");
        table.insert(Prefix.parseAddressOrPrefix("10.1.0.0/16"), "narrow");
        table.insert(Prefix.parseAddressOrPrefix("10.1.2.3/32"), "host");
        table.insert(Prefix.parseAddressOrPrefix("fd7a:115c::/48"), "v6");
        table.insert(Prefix.parseAddressOrPrefix("::/0"), "v6-default");
        assertEquals("wide", table.lookup(ip("10.200.0.1")));
        assertEquals("narrow", table.lookup(ip("10.1.9.9")));
        assertEquals("host", table.lookup(ip("10.1.2.3")));
        assertNull(table.lookup(ip("11.0.0.1")));
        assertEquals("v6", table.lookup(ip("fd7a:115c::1")));
        assertEquals("v6-default", table.lookup(ip("2001:db8::1")));
    }

    @Test
    void prefixesAreMaskedAndReplacedPerExactPrefix() {
        AllowedIps<String> table = new AllowedIps<>();
        table.insert(Prefix.parseAddressOrPrefix("192.168.1.77/24"), "a");
        table.insert(Prefix.parseAddressOrPrefix("192.168.1.0/24"), "b");
        assertEquals("b", table.lookup(ip("192.168.1.5")));
        assertEquals(List.of(Prefix.parseAddressOrPrefix("192.168.1.0/24")), table.prefixesOf("b"));
        assertEquals(List.of(), table.prefixesOf("a"));
        assertEquals("192.168.1.0/24", table.prefixesOf("b").get(0).toString());
    }

    @Test
    void removingAValueRemovesAllItsPrefixesOnly() {
        AllowedIps<String> table = new AllowedIps<>();
        table.insert(Prefix.parseAddressOrPrefix("10.0.0.0/8"), "a");
        table.insert(Prefix.parseAddressOrPrefix("10.9.0.0/16"), "b");
        table.insert(Prefix.parseAddressOrPrefix("fd00::/8"), "b");
        table.removeAll("b");
        assertEquals("a", table.lookup(ip("10.9.0.1")));
        assertNull(table.lookup(ip("fd00::1")));
        assertEquals(List.of(), table.prefixesOf("b"));
    }

    @Test
    void badPrefixesAreRejectedWithoutDnsLookups() {
        assertThrows(IllegalArgumentException.class, () -> Prefix.parseAddressOrPrefix("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> Prefix.parseAddressOrPrefix("example.com/8"));
        assertThrows(IllegalArgumentException.class, () -> Prefix.parseAddressOrPrefix("10.0.0.0/x"));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parseEndpoint("1.2.3.4:70000"));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parseEndpoint("::1:51820"));
        assertEquals("[::1]:51820", IpLiteral.format(HostPort.parseEndpoint("[::1]:51820")));
        assertEquals("fd7a:115c::1:0:0:2", IpLiteral.format(ip("fd7a:115c:0:0:1:0:0:2")));
        assertEquals("2001:db8::", IpLiteral.format(ip("2001:db8::")));
        assertEquals("::", IpLiteral.format(ip("::")));
        assertEquals("fd00::/8", Prefix.parseAddressOrPrefix("fd12::/8").toString());
    }
}
