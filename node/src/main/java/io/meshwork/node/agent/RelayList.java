package io.meshwork.node.agent;

import io.meshwork.protocol.api.RelayInfo;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relays and STUN servers control lists for devices now (docs/architecture.md, "Node"): the registration's
 * until the peer-map stream's first "relays" event, then each event's. Endpoint discovery probes its STUN servers;
 * the relay connection follows its relays. Read from any thread.
 */
final class RelayList {

    private static final Logger log = LoggerFactory.getLogger(RelayList.class);

    /** One list as control sent it; never null parts. */
    record Listed(List<RelayInfo> relays, List<String> stunServers) {
        Listed {
            relays = relays == null ? List.of() : relays.stream().filter(Objects::nonNull).toList();
            stunServers = stunServers == null ? List.of() : stunServers.stream().filter(Objects::nonNull).toList();
        }
    }

    private volatile Listed current;

    /** Starts from the registration's lists (either may be null). */
    RelayList(List<RelayInfo> relays, List<String> stunServers) {
        this.current = new Listed(relays, stunServers);
    }

    List<RelayInfo> relays() {
        return current.relays();
    }

    List<String> stunServers() {
        return current.stunServers();
    }

    /**
     * Takes the lists of a "relays" event; true when they differ from the ones the node had, which is logged once.
     */
    synchronized boolean update(List<RelayInfo> relays, List<String> stunServers) {
        Listed next = new Listed(relays, stunServers);
        if (next.equals(current)) {
            return false;
        }
        current = next;
        log.info("relays from control: {}; STUN servers: {}", describe(next.relays()),
                next.stunServers().isEmpty() ? "none" : String.join(", ", next.stunServers()));
        return true;
    }

    private static String describe(List<RelayInfo> relays) {
        if (relays.isEmpty()) {
            return "none";
        }
        return relays.stream()
                .map(relay -> relay.name() + (relay.region() == null ? "" : " (" + relay.region() + ")")
                        + (Boolean.FALSE.equals(relay.healthy()) ? " unhealthy" : ""))
                .collect(Collectors.joining(", "));
    }
}
