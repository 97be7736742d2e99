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

/** What {@code meshwork status} says was tried for a peer that is not direct, in text and in JSON. */
class StatusTriedLinesTest {

    private static final NodeStatus.Self SELF = new NodeStatus.Self("d-1", "laptop", List.of("100.64.0.1"), Map.of());
    private static final List<String> TRIED = List.of(
            "direct probes to 203.0.113.7:41641 unanswered for 3 s (attempt 2); peer's NAT is endpoint-dependent "
                    + "(symmetric)",
            "port mapping: the gateway granted none by PCP, NAT-PMP or UPnP IGD");

    private static NodeStatus.Peer peer(String hostname, String path, List<String> tried) {
        return new NodeStatus.Peer("d-" + hostname, hostname, List.of("100.64.0.9"), path, null, "hub", "udp", 20.0,
                null, 0, 0, "relayed: …", List.of(), tried);
    }

    @Test
    void listsWhatWasTriedUnderTheTableForRelayedPeersOnly() {
        NodeStatus status = new NodeStatus(SELF, List.of(peer("phone", "relay", TRIED), peer("ws", "direct", List.of())),
                null);
        String text = StatusCommand.render(status, Instant.EPOCH);
        assertTrue(text.endsWith("tried for phone:\n  " + TRIED.get(0) + "\n  " + TRIED.get(1) + "\n"), text);
        assertFalse(text.contains("tried for ws"), text);
    }

    @Test
    void theJsonCarriesTheListAndAnOlderDocumentWithoutItReadsAsEmpty() throws Exception {
        ObjectMapper json = new ObjectMapper();
        NodeStatus.Peer relayed = peer("phone", "relay", TRIED);
        NodeStatus.Peer back = json.readValue(json.writeValueAsString(relayed), NodeStatus.Peer.class);
        assertEquals(TRIED, back.tried());
        String older = json.writeValueAsString(relayed).replaceAll(",\"tried\":\\[[^\\]]*\\]", "");
        assertFalse(older.contains("tried"), older);
        assertEquals(List.of(), json.readValue(older, NodeStatus.Peer.class).tried());
    }
}
