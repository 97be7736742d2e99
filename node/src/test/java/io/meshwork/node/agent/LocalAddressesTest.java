package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.meshwork.protocol.net.IpLiteral;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
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
}
