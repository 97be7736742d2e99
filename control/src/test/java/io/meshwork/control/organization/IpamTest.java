package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshwork.protocol.dns.DnsNames;
import io.meshwork.protocol.net.Prefix;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Host numbering, and the resolver's service addresses, which IPAM never hands out. */
class IpamTest {

    @Test
    void hostsCountFromTheNetworkAddress() {
        Ipam.Cidr cidr = Ipam.Cidr.parse("10.77.0.0/16");
        assertEquals("10.77.0.1", cidr.host(1));
        assertEquals(65534, cidr.capacity());
        assertEquals("10.77.255.254", cidr.host(65534));
    }

    @Test
    void aCidrHoldingTheResolverAddressSkipsIt() {
        Ipam.Cidr cidr = Ipam.Cidr.parse("100.100.100.0/24");
        assertEquals(253, cidr.capacity());
        assertEquals("100.100.100.99", cidr.host(99));
        assertEquals("100.100.100.101", cidr.host(100));
        assertEquals("100.100.100.254", cidr.host(253));
        Set<String> all = new HashSet<>();
        for (int i = 1; i <= cidr.capacity(); i++) {
            all.add(cidr.host(i));
        }
        assertEquals(253, all.size());
        assertEquals(false, all.contains(DnsNames.SERVICE_IPV4));
        assertThrows(IllegalArgumentException.class, () -> cidr.host(254));
    }

    @Test
    void theDefaultOverlayHoldsTheResolverAddressAndSkipsItToo() {
        Ipam.Cidr cidr = Ipam.Cidr.parse("100.64.0.0/10");
        long offset = (100L - 64) * 65536 + 100 * 256 + 100;
        assertEquals("100.100.100.99", cidr.host(offset - 1));
        assertEquals("100.100.100.101", cidr.host(offset));
    }

    @Test
    void theIpv6ServiceAddressIsNoHostOfTheUla() {
        Prefix ula = Prefix.parse(Ipam.ulaPrefix("o123"));
        String service = io.meshwork.protocol.net.IpLiteral.format(DnsNames.serviceIpv6(ula));
        assertEquals(false, service.equals(Ipam.ulaHost("o123", (1L << 24))));
        assertEquals(true, ula.contains(DnsNames.serviceIpv6(ula)));
    }
}
