package io.meshwork.node.netcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.protocol.api.RelayInfo;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code meshwork netcheck}'s relay section: every relay's latency, the would-be home relay marked. */
class NetcheckRelaysFormatTest {

    private static final List<RelayInfo> RELAYS = List.of(
            new RelayInfo("relay-eu", "192.0.2.1:3340", null, null, "eu-west"),
            new RelayInfo("relay-us", "192.0.2.2:3340", null, null, "us-east"),
            new RelayInfo("relay-x", "192.0.2.3:3340", null));
    private static final Map<String, Duration> MEASURED = Map.of("relay-eu", Duration.ofNanos(12_345_000),
            "relay-us", Duration.ofMillis(96));

    @Test
    void theTextListsEveryRelayWithItsLatencyAndMarksTheHome() {
        assertEquals("""
                Relays:
                  relay-eu  12.3 ms  eu-west  (home)
                  relay-us  96.0 ms  us-east
                  relay-x   no answer
                """, NetcheckReportFormat.relaysText(RELAYS, MEASURED));
        assertEquals("", NetcheckReportFormat.relaysText(List.of(), Map.of()), "no relays known: no section");
    }

    @Test
    void theJsonGetsARelaysArray() throws Exception {
        JsonNode root = new ObjectMapper().readTree(NetcheckReportFormat.json("{\"udp\":true}", RELAYS, MEASURED));
        assertEquals(true, root.get("udp").asBoolean());
        assertEquals(3, root.get("relays").size());
        assertEquals("relay-eu", root.at("/relays/0/name").asText());
        assertEquals(12.345, root.at("/relays/0/latencyMs").asDouble(), 1e-9);
        assertEquals(true, root.at("/relays/0/home").asBoolean());
        assertEquals(false, root.at("/relays/1/home").asBoolean());
        assertEquals(true, root.at("/relays/2/latencyMs").isNull());
        assertEquals("{\"udp\":true}", NetcheckReportFormat.json("{\"udp\":true}", List.of(), Map.of()));
    }
}
