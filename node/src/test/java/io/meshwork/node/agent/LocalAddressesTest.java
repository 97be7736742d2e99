package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.meshwork.protocol.net.IpLiteral;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LocalAddressesTest {

    @Test
    void onlyIpv4LiteralsOfInterfacesThatAreUpAndNotLoopbackAreListed() throws Exception {
        for (String address : LocalAddresses.ipv4()) {
            InetAddress parsed = IpLiteral.parse(address);
            assertInstanceOf(Inet4Address.class, parsed, address);
            assertFalse(parsed.isLoopbackAddress(), address);
            NetworkInterface network = NetworkInterface.getByInetAddress(parsed);
            assertFalse(network.isLoopback() || network.isPointToPoint() || !network.isUp(), network.getName());
        }
    }

    @Test
    void onlyGlobalIpv6AddressesThatAreUsableNowAreEndpoints() {
        String ifInet6 = String.join("\n",
                "00000000000000000000000000000001 01 80 10 80       lo",
                "20010db8000200000000000000000010 02 40 00 80     eth0",
                "fe800000000000000000000000000001 02 40 20 80     eth0",
                "fd00000000000000000000000000abcd 02 40 00 80     eth0",
                "20010db8000200000000000000000020 02 40 00 a0     eth0",
                "20010db8000200000000000000000030 02 40 00 c0     eth0",
                "20010db8000200000000000000000040 02 40 00 88     eth0",
                "20010db8000200000000000000000050 02 40 00 01     eth0",
                "20010db8000300000000000000000010 03 40 00 80    wlan9",
                "20010db80002000000000000000000zz 02 40 00 80     eth0",
                "not a line at all");
        assertEquals(List.of("2001:db8:2::10", "2001:db8:2::50"),
                LocalAddresses.globalIpv6(ifInet6, Set.of("eth0")),
                "global and temporary ones on an interface that is up; not loopback, link-local, unique-local, "
                        + "deprecated (0x20), tentative (0x40), DAD-failed (0x08), down interfaces or malformed lines");
    }

    @Test
    void globalUnicastIsTwoThousandSlashThree() {
        assertTrue(LocalAddresses.isGlobalUnicast(IpLiteral.parse("2001:db8::1")));
        assertTrue(LocalAddresses.isGlobalUnicast(IpLiteral.parse("3fff::1")));
        assertFalse(LocalAddresses.isGlobalUnicast(IpLiteral.parse("fe80::1")));
        assertFalse(LocalAddresses.isGlobalUnicast(IpLiteral.parse("fd12::1")));
        assertFalse(LocalAddresses.isGlobalUnicast(IpLiteral.parse("::ffff:192.0.2.1")));
        assertFalse(LocalAddresses.isGlobalUnicast(IpLiteral.parse("192.0.2.1")));
    }

    @Test
    void theHostsGlobalIpv6AddressesAreListedAfterItsIpv4Ones() {
        List<String> all = LocalAddresses.all();
        List<String> ipv4 = LocalAddresses.ipv4();
        assertEquals(ipv4, all.subList(0, ipv4.size()));
        for (String address : all.subList(ipv4.size(), all.size())) {
            assertTrue(LocalAddresses.isGlobalUnicast(IpLiteral.parse(address)), address);
        }
    }
}
