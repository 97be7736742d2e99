package io.meshwork.node.portmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** The default gateway from the text of /proc/net/route. */
class DefaultGatewayTest {

    private static final String HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

    @Test
    void readsTheDefaultRoutesGateway() throws Exception {
        String routes = HEADER
                + "eth0\t0001010A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
                + "eth0\t00000000\t0100010A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
        assertEquals(InetAddress.getByName("10.1.0.1"), DefaultGateway.parse(routes).orElseThrow());
    }

    @Test
    void theLowestMetricWins() throws Exception {
        String routes = HEADER
                + "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                + "eth0\t00000000\t0100010A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
        assertEquals(InetAddress.getByName("10.1.0.1"), DefaultGateway.parse(routes).orElseThrow());
    }

    @Test
    void noDefaultRouteOrGarbageIsNoGateway() {
        assertTrue(DefaultGateway.parse(HEADER + "eth0\t0001010A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n").isEmpty());
        // A default route without a gateway (a point-to-point link) has none to ask.
        assertTrue(DefaultGateway.parse(HEADER + "wg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n").isEmpty());
        // A route that is down does not count.
        assertTrue(DefaultGateway.parse(HEADER + "eth0\t00000000\t0100010A\t0002\t0\t0\t0\t00000000\t0\t0\t0\n").isEmpty());
        assertTrue(DefaultGateway.parse(HEADER + "eth0\t00000000\tZZZZ\t0003\t0\t0\t0\t00000000\n").isEmpty());
        assertTrue(DefaultGateway.parse("").isEmpty());
        assertTrue(DefaultGateway.parse("\n\n short line\n").isEmpty());
    }
}
