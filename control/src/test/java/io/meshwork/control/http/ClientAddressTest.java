package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.net.Prefix;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Which X-Forwarded-For hop is the client, for proxies 10.0.0.0/24 and fd00::1 (docs/operations.md). */
class ClientAddressTest {

    private static final ClientAddress CLIENTS = new ClientAddress(List.of(Prefix.parse("10.0.0.0/24"),
            Prefix.parseAddressOrPrefix("fd00::1")));

    @ParameterizedTest(name = "{0} with X-Forwarded-For [{1}] is {2}")
    @CsvSource(delimiter = '|', value = {
        // An untrusted peer's header is ignored, whatever it says.
        "198.51.100.7 | 203.0.113.9                       | 198.51.100.7",
        "198.51.100.7 | 10.0.0.5                          | 198.51.100.7",
        // A trusted proxy's: the rightmost hop that is not a trusted proxy.
        "10.0.0.2     | 203.0.113.9                       | 203.0.113.9",
        "10.0.0.2     | 192.0.2.1, 203.0.113.9            | 203.0.113.9",
        "10.0.0.2     | 192.0.2.1, 203.0.113.9, 10.0.0.7  | 203.0.113.9",
        "fd00::1      | 2001:db8::5                       | 2001:db8::5",
        "fd00::1      | 2001:db8::5, [fd00::1]            | 2001:db8::5",
        // Only trusted proxies: the leftmost of them. No header: the proxy itself.
        "10.0.0.2     | 10.0.0.9, 10.0.0.3                | 10.0.0.9",
        "10.0.0.2     | ''                                | 10.0.0.2",
        // A hop that is no address ends the walk at the last trusted one; what is left of it is not believed.
        "10.0.0.2     | 203.0.113.9, unknown              | 10.0.0.2",
        "10.0.0.2     | 203.0.113.9, garbage, 10.0.0.8    | 10.0.0.8",
        "10.0.0.2     | 198.51.100.1:4711                 | 10.0.0.2",
    })
    void theClientIsTheRightmostHopThatIsNotATrustedProxy(String peer, String forwardedFor, String client) {
        List<String> header = forwardedFor.isEmpty() ? List.of() : List.of(forwardedFor);
        assertEquals(IpLiteral.parse(client), CLIENTS.client(IpLiteral.parse(peer), header));
    }

    @Test
    void severalHeadersAreOneListInTheirOrder() {
        assertEquals(IpLiteral.parse("203.0.113.2"), CLIENTS.client(IpLiteral.parse("10.0.0.2"),
                List.of("203.0.113.1", "203.0.113.2, 10.0.0.4")));
    }

    @Test
    void aLongChainIsReadOnlyAsFarAsTheBound() {
        String chain = String.join(", ", Collections.nCopies(ClientAddress.MAX_HOPS + 10, "10.0.0.3"));
        assertEquals(IpLiteral.parse("10.0.0.3"), CLIENTS.client(IpLiteral.parse("10.0.0.2"),
                List.of("203.0.113.1, " + chain)), "not further left than the bound");
    }

    @Test
    void theSettingTakesCidrsAndAddressesAndRefusesAnythingElse() {
        ClientAddress configured = ClientAddress.from(ConfigFactory.parseMap(Map.of(
                "meshwork.control.trusted-proxies", List.of("10.1.0.0/16", "192.0.2.7"))));
        assertTrue(configured.isTrusted(IpLiteral.parse("10.1.200.3")));
        assertTrue(configured.isTrusted(IpLiteral.parse("192.0.2.7")));
        assertEquals(false, configured.isTrusted(IpLiteral.parse("192.0.2.8")));
        assertEquals(false, ClientAddress.from(ConfigFactory.empty()).isTrusted(IpLiteral.parse("10.1.0.1")));
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> ClientAddress.from(
                ConfigFactory.parseMap(Map.of("meshwork.control.trusted-proxies", List.of("proxy.example")))));
        assertTrue(refused.getMessage().contains("meshwork.control.trusted-proxies"), refused.getMessage());
    }
}
