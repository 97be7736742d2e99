package io.meshwork.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.node.local.NodeStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The resolver in {@code meshwork status}: the dns line, the names of odd hostnames, and the JSON the socket carries. */
class StatusDnsLineTest {

    private static final NodeStatus.Self SELF = new NodeStatus.Self("d-1", "laptop", List.of("100.64.0.1"), Map.of());
    private static final NodeStatus.Dns DNS = new NodeStatus.Dns("resolvconf", "meshwork.internal",
            "laptop.meshwork.internal", List.of("100.100.100.100"), List.of("192.0.2.53"),
            Map.of("Build_Server.2", "build-server-2.meshwork.internal"), 120, 8, 3, 1, null);

    @Test
    void showsTheModeNameResolverUpstreamsCountersAndSafeNames() {
        String text = StatusCommand.render(new NodeStatus(SELF, List.of(), DNS), Instant.EPOCH);
        assertTrue(text.contains("dns: resolvconf, laptop.meshwork.internal at 100.100.100.100, upstream 192.0.2.53; "
                + "120 queries, 8 forwarded, 1 dropped\n"), text);
        assertTrue(text.contains("dns: Build_Server.2 is build-server-2.meshwork.internal\n"), text);
    }

    @Test
    void saysWhyTheHostDoesNotUseTheResolver() {
        NodeStatus.Dns off = new NodeStatus.Dns("off", "meshwork.internal", "laptop.meshwork.internal",
                List.of("100.100.100.100"), List.of(), Map.of(), 0, 0, 0, 0, "systemd-resolved does not run: ...");
        String text = StatusCommand.render(new NodeStatus(SELF, List.of(), off), Instant.EPOCH);
        assertTrue(text.contains("dns: off, laptop.meshwork.internal at 100.100.100.100, upstream none;"), text);
        assertTrue(text.contains("dns: systemd-resolved does not run"), text);
    }

    @Test
    void withoutAResolverThereIsNoDnsLine() {
        assertFalse(StatusCommand.render(new NodeStatus(SELF, List.of()), Instant.EPOCH).contains("dns:"));
    }

    @Test
    void theDnsPartTravelsAsJson() throws Exception {
        ObjectMapper json = new ObjectMapper();
        NodeStatus status = new NodeStatus(SELF, List.of(), DNS);
        assertEquals(status, json.readValue(json.writeValueAsString(status), NodeStatus.class));
    }
}
