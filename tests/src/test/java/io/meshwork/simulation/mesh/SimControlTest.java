package io.meshwork.simulation.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.SecurityPolicy;
import io.meshwork.protocol.policy.PolicyGroup;
import io.meshwork.simulation.Simulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The in-memory control's peer-map stream, as docs/api.md describes the real one. */
class SimControlTest {

    private final Simulation simulation = Simulation.withSeed(1);
    private final SimControl control = new SimControl(simulation);
    private final String organization = control.createOrganization();
    private final String laptop = control.register(organization, "laptop", "a2V5LWxhcHRvcA==");
    private final String server = control.register(organization, "server", "a2V5LXNlcnZlcg==");

    @Test
    void aStreamStartsWithASnapshotOfEveryOtherDeviceAtTheCurrentRevision() {
        List<PeerMapEvent> events = follow(laptop);
        simulation.advance(SimControl.DELIVERY_DELAY);

        assertEquals(1, events.size());
        PeerMapEvent snapshot = events.get(0);
        assertEquals(PeerMapEvent.SNAPSHOT, snapshot.type());
        assertEquals(2, snapshot.revision());
        assertEquals(List.of(server), ids(snapshot));
        assertEquals(SecurityPolicy.OPEN, snapshot.policy());
    }

    @Test
    void reportsWithinTheWindowArriveAsOneUpsertWithTheLatestRevision() {
        List<PeerMapEvent> events = follow(laptop);
        String phone = control.register(organization, "phone", "a2V5LXBob25l");
        simulation.advance(Duration.ofSeconds(1));
        events.clear();

        control.report(server, report("198.51.100.7:40001"));
        simulation.advance(SimControl.DELIVERY_DELAY.plusMillis(10));
        control.report(phone, report("203.0.113.50:40002"));
        control.report(server, report("198.51.100.7:40003"));
        simulation.advance(Duration.ofSeconds(1));

        assertEquals(List.of(PeerMapEvent.UPSERT, PeerMapEvent.UPSERT), events.stream().map(PeerMapEvent::type).toList());
        assertEquals(List.of(server), ids(events.get(0)), "the first change after a quiet window goes out at once");
        assertEquals(4, events.get(0).revision());
        assertEquals(List.of(server, phone), ids(events.get(1)), "the next ones wait for the window, together");
        assertEquals(6, events.get(1).revision());
        assertEquals(List.of(new Endpoint("198.51.100.7:40003", "stun")), events.get(1).peers().get(0).endpoints());
        assertEquals(control.device(server), events.get(1).peers().get(0));
    }

    @Test
    void aDeviceNeverSeesItselfAndAnUnchangedReportMakesNoRevision() {
        List<PeerMapEvent> events = follow(laptop);
        control.report(laptop, report("198.51.100.9:1000"));
        simulation.advance(Duration.ofSeconds(1));
        long revision = control.revision(organization);
        control.report(laptop, report("198.51.100.9:1000"));
        simulation.advance(Duration.ofSeconds(1));

        assertEquals(3, revision);
        assertEquals(revision, control.revision(organization), "the same report again changes nothing");
        assertEquals(List.of(PeerMapEvent.SNAPSHOT), events.stream().map(PeerMapEvent::type).toList());
    }

    @Test
    void aRemovalReachesTheOthersAndEndsTheRemovedDevicesStream() {
        List<PeerMapEvent> laptopEvents = follow(laptop);
        List<PeerMapEvent> serverEvents = new ArrayList<>();
        boolean[] ended = new boolean[1];
        control.follow(server, serverEvents::add, () -> ended[0] = true);
        simulation.advance(Duration.ofSeconds(1));

        control.remove(server);
        control.report(server, report("198.51.100.7:40001"));
        simulation.advance(Duration.ofSeconds(1));

        PeerMapEvent removal = laptopEvents.get(laptopEvents.size() - 1);
        assertEquals(PeerMapEvent.REMOVE, removal.type());
        assertEquals(List.of(server), removal.removed());
        assertEquals(3, removal.revision());
        assertEquals(3, control.revision(organization), "a report from a removed device is refused");
        assertTrue(ended[0], "the removed device's stream ended");
        assertEquals(List.of(PeerMapEvent.SNAPSHOT), serverEvents.stream().map(PeerMapEvent::type).toList());
        assertNull(control.device(server));
        assertThrows(IllegalArgumentException.class, () -> control.follow(server, event -> { }, () -> { }));
    }

    /**
     * Control's visibility rule: a device learns exactly the devices it may send to or receive from under the
     * security groups. Here the guest and the database accept only the server, so neither learns the other, until a
     * rule lets the guest reach the database.
     */
    @Test
    void streamsCarryOnlyThePeersPolicyLetsTheDeviceLearn() {
        String guest = control.register(organization, "guest", "a2V5LWd1ZXN0", List.of("guest"));
        String db = control.register(organization, "db", "a2V5LWRi", List.of("db"));
        control.saveGroup(organization, new PolicyGroup("db", List.of("tag:db"),
                List.of(new PolicyGroup.Rule("tcp", "5432", List.of(server)))));
        control.saveGroup(organization, new PolicyGroup("guests", List.of("tag:guest"),
                List.of(new PolicyGroup.Rule("any", null, List.of(server)))));
        simulation.advance(Duration.ofSeconds(1));
        List<PeerMapEvent> guestEvents = follow(guest);
        List<PeerMapEvent> dbEvents = follow(db);
        simulation.advance(Duration.ofSeconds(1));
        assertEquals(List.of(laptop, server), ids(guestEvents.get(0)), "the laptop is open, the server accepted");
        assertTrue(guestEvents.get(0).policy().enforced());
        assertEquals(List.of(laptop, server), ids(dbEvents.get(0)));
        guestEvents.clear();
        dbEvents.clear();

        control.report(db, report("198.51.100.20:5000"));
        simulation.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), guestEvents, "nothing about the database reaches the guest");

        control.saveGroup(organization, new PolicyGroup("db", List.of("tag:db"),
                List.of(new PolicyGroup.Rule("tcp", "5432", List.of(server, "tag:guest")))));
        simulation.advance(Duration.ofSeconds(1));
        assertEquals(List.of(PeerMapEvent.UPSERT), guestEvents.stream().map(PeerMapEvent::type).toList());
        assertEquals(List.of(db), ids(guestEvents.get(0)));
        assertEquals(List.of(PeerMapEvent.UPSERT, PeerMapEvent.POLICY),
                dbEvents.stream().map(PeerMapEvent::type).toList(), "the guest enters, and db's rule lets it in");
        guestEvents.clear();

        control.tag(db, List.of("db", "prod"));
        simulation.advance(Duration.ofSeconds(1));
        assertEquals(List.of("db", "prod"), guestEvents.get(0).peers().get(0).tags(), "tags travel with the peer");
        guestEvents.clear();

        control.saveGroup(organization, new PolicyGroup("db", List.of("tag:db"),
                List.of(new PolicyGroup.Rule("tcp", "5432", List.of(server)))));
        simulation.advance(Duration.ofSeconds(1));
        assertEquals(List.of(PeerMapEvent.REMOVE), guestEvents.stream().map(PeerMapEvent::type).toList());
        assertEquals(List.of(db), guestEvents.get(0).removed(), "the rule is gone, and the database with it");
    }

    private List<PeerMapEvent> follow(String deviceId) {
        List<PeerMapEvent> events = new ArrayList<>();
        control.follow(deviceId, events::add, () -> { });
        return events;
    }

    private static List<String> ids(PeerMapEvent event) {
        return event.peers().stream().map(PeerInfo::id).toList();
    }

    private static EndpointReport report(String stunEndpoint) {
        return new EndpointReport(List.of(new Endpoint(stunEndpoint, "stun")),
                Map.of("udp", true, "mapping", "ENDPOINT_INDEPENDENT"));
    }
}
