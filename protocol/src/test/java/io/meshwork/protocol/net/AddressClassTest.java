package io.meshwork.protocol.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AddressClassTest {

    @ParameterizedTest
    @CsvSource({
        "0.0.0.0, UNSPECIFIED", ":: , UNSPECIFIED",
        "127.0.0.1, LOOPBACK", "127.9.9.9, LOOPBACK", "::1, LOOPBACK",
        "224.0.0.1, MULTICAST", "239.255.255.250, MULTICAST", "255.255.255.255, MULTICAST", "ff02::1, MULTICAST",
        "169.254.169.254, LINK_LOCAL", "fe80::1, LINK_LOCAL",
        "10.1.2.3, PRIVATE", "172.16.0.1, PRIVATE", "172.31.255.255, PRIVATE", "192.168.1.1, PRIVATE",
        "100.64.0.1, PRIVATE", "fd00::1, PRIVATE",
        "172.32.0.1, PUBLIC", "100.128.0.1, PUBLIC", "203.0.113.7, PUBLIC", "2001:db8::1, PUBLIC", "8.8.8.8, PUBLIC",
    })
    void classifies(String address, AddressClass expected) {
        assertEquals(expected, AddressClass.of(IpLiteral.parse(address.strip())));
    }

    @ParameterizedTest
    @CsvSource({
        "203.0.113.7, stun, true", "203.0.113.7, local, true", "203.0.113.7, relay, true",
        "10.0.0.7, local, true", "10.0.0.7, stun, false", "10.0.0.7, control, false", "10.0.0.7, , false",
        "127.0.0.1, local, false", "169.254.169.254, local, false", "224.0.0.1, local, false", "0.0.0.0, local, false",
    })
    void privateAddressesOnlyAsLanAddresses(String address, String source, boolean usable) {
        assertEquals(usable, AddressClass.of(IpLiteral.parse(address)).usableAs(source));
    }
}
