package io.meshwork.control.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/** The relay lists a device's peer stream carries ({@code "relays"} events), for the relay API tests. */
final class RelayEvents {

    private RelayEvents() {}

    /** The names of the relays in a {@code "relays"} event's list, in order. */
    static List<String> names(JsonNode relays) {
        List<String> names = new ArrayList<>();
        relays.forEach(relay -> names.add(relay.get("name").asText()));
        return names;
    }

    /** The next "relays" event on the stream whose relay names are {@code expected}, skipping others. */
    static JsonNode relaysEvent(BlockingQueue<JsonNode> events, List<String> expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<JsonNode> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            JsonNode event = events.poll(200, TimeUnit.MILLISECONDS);
            if (event == null) {
                continue;
            }
            seen.add(event);
            if (event.get("type").asText().equals("relays") && names(event.get("relays")).equals(expected)) {
                return event;
            }
        }
        throw new AssertionError("no relays event listing " + expected + " in " + seen);
    }
}
