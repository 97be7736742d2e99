package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.filter.PacketFilter;
import io.meshwork.node.tunnel.TunnelSupervisor;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.PolicyRule;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.api.SecurityPolicy;
import io.meshwork.protocol.wireguard.Key;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Hand-made malformed peer-map streams: what can be applied is, what cannot is skipped, nothing throws. */
class PeerMapApplierTest {

    private static final SecurityPolicy SSH_ONLY = new SecurityPolicy(true, List.of("ssh"),
            List.of(new PolicyRule("tcp", 22, 22, List.of("100.64.0.0/10"))));

    private final WireGuardDevice device = IdleDevice.create();
    private final List<TunnelSupervisor.Command> tunnelCommands = new ArrayList<>();
    /** The device's packet filter as it was when each tunnel command went out. */
    private final List<PacketFilter> filterAtCommand = new ArrayList<>();
    private final List<List<String>> prefixes = new ArrayList<>();
    private final List<PeerMapEvent> relayLists = new ArrayList<>();
    private final PeerMapApplier applier;

    PeerMapApplierTest() {
        applier = new PeerMapApplier("self", device, command -> {
            tunnelCommands.add(command);
            filterAtCommand.add(device.packetFilter());
        }, prefixes::add, relayLists::add);
    }

    @AfterEach
    void close() {
        device.close();
    }

    private static PeerInfo peer(String id, Key key, String... overlayIps) {
        return new PeerInfo(id, "host-" + id, key == null ? null : key.toBase64(), Arrays.asList(overlayIps),
                List.of(new Endpoint("198.51.100.7:51820", "stun")), Map.of(), 0);
    }

    private static Key key() {
        return Key.generatePrivate().publicKey();
    }

    @Test
    void badRecordsAreSkippedOneByOneAndTheRestApplies() {
        Key good1 = key();
        Key good2 = key();
        Key badAddress = key();
        Key claimsEverything = key();
        List<PeerInfo> records = new ArrayList<>(List.of(
                peer("d1", good1, "100.64.0.2", "fd00::2"),
                peer(null, key(), "100.64.0.3"),
                new PeerInfo("d-badkey", "x", "not a key", List.of("100.64.0.4"), List.of(), Map.of(), 0),
                peer("d-nokey", null, "100.64.0.5"),
                peer("d-badaddress", badAddress, "100.64.0.300"),
                peer("d-everything", claimsEverything, "0.0.0.0/0"),
                peer("d-nulladdress", key(), (String) null),
                new PeerInfo("d2", null, good2.toBase64(), null, null, null, 0),
                peer("self", key(), "100.64.0.9")));
        records.add(2, null);

        applier.apply(new PeerMapEvent(PeerMapEvent.SNAPSHOT, 7, records, List.of(), SecurityPolicy.OPEN,
                List.of("100.64.0.0/10", "fd00::/64")));

        assertEquals(List.of("d1", "d2"), applier.peers().keySet().stream().sorted().toList());
        assertNotNull(device.peer(good1));
        assertEquals(2, device.allowedIps(device.peer(good1)).size());
        assertNotNull(device.peer(good2), "a record without hostname or overlay addresses is still a peer");
        assertEquals("d2", applier.peers().get("d2").hostname(), "the id stands in for a missing hostname");
        assertNull(device.peer(badAddress), "nothing of a bad record is half-applied");
        assertNull(device.peer(claimsEverything), "a peer cannot claim a whole prefix as its overlay address");
        assertEquals(2, tunnelCommands.size());
        assertTrue(tunnelCommands.stream().allMatch(c -> c instanceof TunnelSupervisor.PeerUpserted));
        assertEquals(List.of(List.of("100.64.0.0/10", "fd00::/64")), prefixes);
    }

    @Test
    void eachPeersHomeRelayIsKeptAndAnOverlongOneIgnored() {
        Key homed = key();
        Key overlong = key();
        applier.apply(new PeerMapEvent(PeerMapEvent.SNAPSHOT, 2, List.of(
                new PeerInfo("d1", "a", homed.toBase64(), List.of("100.64.0.2"), List.of(), Map.of(), 0, List.of(),
                        "relay-eu"),
                new PeerInfo("d2", "b", overlong.toBase64(), List.of("100.64.0.3"), List.of(), Map.of(), 0,
                        List.of(), "r".repeat(65)),
                peer("d3", key(), "100.64.0.4")), List.of(), SecurityPolicy.OPEN));
        assertEquals("relay-eu", applier.peers().get("d1").homeRelay(), "the relay its peers send it traffic at");
        assertNull(applier.peers().get("d2").homeRelay());
        assertNull(applier.peers().get("d3").homeRelay(), "an older node reports none");
    }

    @Test
    void thePolicyIsInPlaceBeforeThePeersOfTheSameEventArrive() {
        applier.apply(new PeerMapEvent(PeerMapEvent.SNAPSHOT, 3, List.of(peer("d1", key(), "100.64.0.2")),
                List.of(), SSH_ONLY));
        assertNotNull(filterAtCommand.get(0), "the SSH-only filter was installed before the peer's tunnel started");
        assertSame(device.packetFilter(), filterAtCommand.get(0));
    }

    @Test
    void aPolicyThatCannotBeParsedLetsInRepliesOnlyAndThePeersStillApply() {
        SecurityPolicy broken = new SecurityPolicy(true, List.of("bad"),
                List.of(new PolicyRule("tcp", 22, 22, List.of("not-a-cidr"))));
        applier.apply(new PeerMapEvent(PeerMapEvent.UPSERT, 4, List.of(peer("d1", key(), "100.64.0.2")),
                List.of(), broken));
        assertNotNull(device.packetFilter(), "fails closed: a filter is installed");
        assertEquals(1, applier.peers().size());
    }

    @Test
    void relayListsArePassedOnAndTouchNeitherPeersNorPolicy() {
        applier.apply(new PeerMapEvent(PeerMapEvent.UPSERT, 1, List.of(peer("d1", key(), "100.64.0.2")), List.of()));
        PacketFilter filter = device.packetFilter();
        PeerMapEvent relays = PeerMapEvent.relays(1, List.of(new RelayInfo("r1", "203.0.113.5:3340", null, null,
                "eu-west", true)), List.of("203.0.113.5:3478"));

        applier.apply(relays);
        applier.apply(new PeerMapEvent(PeerMapEvent.RELAYS, 1, null, null));

        assertEquals(List.of(relays), relayLists, "an event without lists is not passed on");
        assertEquals(1, applier.peers().size());
        assertEquals(1, tunnelCommands.size());
        assertSame(filter, device.packetFilter());
    }

    @Test
    void aFailingRelayConsumerDoesNotStopTheStream() {
        PeerMapApplier failing = new PeerMapApplier("self", device, command -> { }, prefixes::add, event -> {
            throw new IllegalStateException("boom");
        });
        failing.apply(PeerMapEvent.relays(1, List.of(), List.of()));
        failing.apply(new PeerMapEvent(PeerMapEvent.UPSERT, 2, List.of(peer("d1", key(), "100.64.0.2")), List.of()));
        assertEquals(1, failing.peers().size());
    }

    @Test
    void eventsWithoutTypeOrListsChangeNothingAndDoNotThrow() {
        applier.apply(new PeerMapEvent(PeerMapEvent.UPSERT, 1, List.of(peer("d1", key(), "100.64.0.2")), List.of()));
        applier.apply(new PeerMapEvent(null, 2, null, null));
        applier.apply(new PeerMapEvent(PeerMapEvent.SNAPSHOT, 3, null, null));
        applier.apply(new PeerMapEvent(PeerMapEvent.REMOVE, 4, null, null));
        applier.apply(new PeerMapEvent(PeerMapEvent.REMOVE, 5, null, Arrays.asList(null, "unknown")));
        applier.apply(new PeerMapEvent("something-new", 6, List.of(), List.of()));
        applier.apply(null);
        assertTrue(applier.peers().isEmpty(), "the empty snapshot removed d1");
        assertEquals(2, tunnelCommands.size());
        assertTrue(tunnelCommands.get(1) instanceof TunnelSupervisor.PeerRemoved);
    }

    @Test
    void aDeviceWithANewKeyReplacesItsOldWireGuardPeer() {
        Key old = key();
        Key renewed = key();
        applier.apply(new PeerMapEvent(PeerMapEvent.UPSERT, 1, List.of(peer("d1", old, "100.64.0.2")), List.of()));
        applier.apply(new PeerMapEvent(PeerMapEvent.UPSERT, 2, List.of(peer("d1", renewed, "100.64.0.2")), List.of()));
        assertEquals(1, device.allowedIps(device.peer(renewed)).size(), "the new key has the overlay address");
        assertTrue(tunnelCommands.stream().anyMatch(c -> c instanceof TunnelSupervisor.PeerRemoved removed
                && removed.peer().equals(old)), "the old key's tunnel goes: " + tunnelCommands);
    }
    @Test
    void onlyTheOrganizationsAddressesAndReachableEndpointsAreTaken() {
        applier.organizationPrefixes(List.of("10.77.0.0/16", "fd12:3456:789a:1::/64"));
        Key inside = key();
        Key outside = key();
        PeerInfo good = new PeerInfo("d1", "h1", inside.toBase64(), List.of("10.77.0.2", "fd12:3456:789a:1::2"),
                List.of(new Endpoint("10.0.0.5:51820", "local"), new Endpoint("10.0.0.5:51820", "stun"),
                        new Endpoint("127.0.0.1:51820", "local"), new Endpoint("169.254.169.254:80", "stun"),
                        new Endpoint("224.0.0.1:51820", "stun"), new Endpoint("[fe80::1]:51820", "local"),
                        new Endpoint("10.77.0.9:51820", "stun"), new Endpoint("not-an-endpoint", "stun"),
                        new Endpoint("198.51.100.7:41641", "stun"), new Endpoint("198.51.100.7:41642", null)),
                Map.of(), 0);
        PeerInfo claimsAnotherNetwork = new PeerInfo("d2", "h2", outside.toBase64(), List.of("192.168.1.10"),
                List.of(), Map.of(), 0);
        applier.apply(new PeerMapEvent(PeerMapEvent.UPSERT, 1, List.of(good, claimsAnotherNetwork), List.of()));

        assertEquals(List.of("d1"), List.copyOf(applier.peers().keySet()));
        assertNull(device.peer(outside), "an overlay address outside the organization is refused");
        assertEquals(List.of("10.0.0.5:51820", "198.51.100.7:41641", "198.51.100.7:41642"),
                applier.peers().get("d1").endpoints().stream().map(Endpoint::address).toList(),
                "a LAN address only as a local endpoint; no loopback, metadata, multicast, link-local, overlay or junk");
    }

    @Test
    void aSnapshotTeachesTheOrganizationsPrefixes() {
        applier.apply(new PeerMapEvent(PeerMapEvent.SNAPSHOT, 1, List.of(peer("d1", key(), "100.64.0.2")),
                List.of(), null, List.of("10.77.0.0/16", "fd00::/64")));
        assertTrue(applier.peers().isEmpty(), "100.64.0.2 is not in 10.77.0.0/16");
        applier.apply(new PeerMapEvent(PeerMapEvent.UPSERT, 2, List.of(peer("d2", key(), "10.77.0.3")), List.of()));
        assertEquals(List.of("d2"), List.copyOf(applier.peers().keySet()));
    }


    private static PeerInfo router(String id, Key key, String overlay, List<String> routes) {
        return new PeerInfo(id, "host-" + id, key.toBase64(), List.of(overlay), List.of(), Map.of(), 0, List.of(),
                routes, false);
    }

    @Test
    void acceptedRoutesJoinTheRoutersAllowedIpsAndMoveWithThePrimary() {
        io.meshwork.protocol.net.Prefix lan = io.meshwork.protocol.net.Prefix.parse("192.168.10.0/24");
        applier.routing(peers -> {
            Map<String, List<io.meshwork.protocol.net.Prefix>> wanted = new java.util.HashMap<>();
            peers.forEach(p -> p.routes().forEach(r -> wanted.computeIfAbsent(p.id(), id -> new ArrayList<>())
                    .add(io.meshwork.protocol.net.Prefix.parse(r))));
            return wanted;
        });
        Key first = key();
        Key second = key();
        applier.apply(new PeerMapEvent(PeerMapEvent.SNAPSHOT, 1, List.of(
                router("r1", first, "100.64.0.2", List.of("192.168.10.0/24", "0.0.0.0/0", "100.64.5.0/24")),
                router("r2", second, "100.64.0.3", List.of())), List.of(), SecurityPolicy.OPEN,
                List.of("100.64.0.0/10", "fd00::/64")));
        assertEquals(List.of("192.168.10.0/24"), applier.peers().get("r1").routes(),
                "a default route and one inside the overlay are refused");
        assertTrue(device.allowedIps(device.peer(first)).contains(lan));

        applier.apply(new PeerMapEvent(PeerMapEvent.UPSERT, 2, List.of(
                router("r1", first, "100.64.0.2", List.of()),
                router("r2", second, "100.64.0.3", List.of("192.168.10.0/24"))), List.of()));
        assertFalse(device.allowedIps(device.peer(first)).contains(lan), "the old primary lost the route");
        assertTrue(device.allowedIps(device.peer(first)).contains(
                io.meshwork.protocol.net.Prefix.parse("100.64.0.2/32")), "but kept its overlay address");
        assertTrue(device.allowedIps(device.peer(second)).contains(lan));

        applier.apply(new PeerMapEvent(PeerMapEvent.REMOVE, 3, List.of(), List.of("r2")));
        assertEquals(1, applier.peers().size());
    }
}
