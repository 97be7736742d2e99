package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.RelayInfo;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RelayListTest {

    private static final RelayInfo ONE = new RelayInfo("one", "192.0.2.1:3340", null, null, null, true);
    private static final RelayInfo TWO = new RelayInfo("two", "192.0.2.2:3340", null, null, null, true);

    @Test
    void theRegistrationsListsHoldUntilControlSendsOthers() {
        RelayList list = new RelayList(List.of(ONE), List.of("192.0.2.1:3478"));
        assertEquals(List.of(ONE), list.relays());
        assertEquals(List.of("192.0.2.1:3478"), list.stunServers());

        assertFalse(list.update(List.of(ONE), List.of("192.0.2.1:3478")), "the same lists change nothing");
        assertTrue(list.update(List.of(ONE, TWO), List.of("192.0.2.1:3478", "192.0.2.2:3340")));
        assertEquals(List.of(ONE, TWO), list.relays());
        assertEquals(List.of("192.0.2.1:3478", "192.0.2.2:3340"), list.stunServers());
    }

    @Test
    void missingListsAndNullEntriesAreEmpty() {
        RelayList list = new RelayList(null, null);
        assertEquals(List.of(), list.relays());
        assertEquals(List.of(), list.stunServers());
        assertTrue(list.update(Arrays.asList(ONE, null), Arrays.asList(null, "192.0.2.1:3478")));
        assertEquals(List.of(ONE), list.relays());
        assertEquals(List.of("192.0.2.1:3478"), list.stunServers());
    }
}
