package io.meshwork.node.portmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.portmap.PortMapProtocol;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The order of protocols, renewal, a moved gateway, a gateway that lost its state and deletion, with fake protocol
 * clients. Rounds and checks are called directly; the settings put every timer hours away.
 */
class PortMapperTest {

    private static final PortMapper.Settings SLOW = new PortMapper.Settings(Duration.ofMillis(100),
            Duration.ofHours(2), Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(2));
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    private final List<Optional<PortMapping>> changes = new ArrayList<>();
    private final AtomicReference<InetAddress> router = new AtomicReference<>(address("10.1.0.1"));
    private final AtomicReference<InetAddress> local = new AtomicReference<>(address("10.1.0.10"));

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    @Test
    void asksPcpThenNatPmpThenUpnpAndKeepsTheFirstThatMaps() {
        FakeClient pcp = new FakeClient(PortMapProtocol.PCP, false);
        FakeClient natPmp = new FakeClient(PortMapProtocol.NAT_PMP, true);
        FakeClient upnp = new FakeClient(PortMapProtocol.UPNP, true);
        PortMapper mapper = mapper(pcp, natPmp, upnp);
        mapper.round();
        assertEquals(PortMapProtocol.NAT_PMP, mapper.current().orElseThrow().protocol());
        assertEquals(1, pcp.maps);
        assertEquals(1, natPmp.maps);
        assertEquals(0, upnp.maps);
        assertEquals(1, changes.size());
    }

    @Test
    void aRenewalPassesTheLeaseHeldAndAnUnchangedMappingIsNoNews() {
        FakeClient pcp = new FakeClient(PortMapProtocol.PCP, true);
        PortMapper mapper = mapper(pcp);
        mapper.round();
        Lease first = pcp.lastGranted;
        mapper.round();
        assertSame(first, pcp.lastPrevious);
        assertEquals(1, changes.size(), "the same external address is not a change");
    }

    @Test
    void aFailedRenewalFallsBackToTheNextProtocol() {
        FakeClient pcp = new FakeClient(PortMapProtocol.PCP, true);
        FakeClient natPmp = new FakeClient(PortMapProtocol.NAT_PMP, true);
        PortMapper mapper = mapper(pcp, natPmp);
        mapper.round();
        pcp.grants = false;
        mapper.round();
        assertEquals(PortMapProtocol.NAT_PMP, mapper.current().orElseThrow().protocol());
        assertEquals(2, changes.size());
    }

    @Test
    void aMovedGatewayGetsAFreshMapping() {
        FakeClient pcp = new FakeClient(PortMapProtocol.PCP, true);
        PortMapper mapper = mapper(pcp);
        mapper.round();
        router.set(address("192.168.7.1"));
        local.set(address("192.168.7.20"));
        mapper.checkNetwork();
        assertEquals(address("192.168.7.1"), mapper.current().orElseThrow().gateway());
        assertNull(pcp.lastPrevious, "a new gateway is asked for a new mapping, not a renewal");
        router.set(null);
        mapper.checkNetwork();
        assertTrue(mapper.current().isEmpty());
        assertEquals(Optional.empty(), changes.get(changes.size() - 1));
    }

    @Test
    void anotherNetworkBehindTheSameGatewayAddressGetsAFreshMapping() {
        FakeClient pcp = new FakeClient(PortMapProtocol.PCP, true);
        PortMapper mapper = mapper(pcp);
        mapper.round();
        mapper.checkNetwork();
        assertEquals(1, pcp.maps, "nothing changed: no round");
        local.set(address("10.1.0.77"));
        mapper.checkNetwork();
        assertEquals(2, pcp.maps);
        assertNull(pcp.lastPrevious, "this host moved: a new mapping for its new address");
    }

    @Test
    void aGatewayThatLostItsStateIsAskedAgain() {
        FakeClient pcp = new FakeClient(PortMapProtocol.PCP, true);
        PortMapper mapper = mapper(pcp);
        mapper.round();
        pcp.valid = false;
        mapper.checkEpoch();
        assertEquals(2, pcp.maps);
        assertNull(pcp.lastPrevious);
    }

    @Test
    void closeDeletesTheMapping() {
        FakeClient upnp = new FakeClient(PortMapProtocol.UPNP, true);
        PortMapper mapper = mapper(upnp);
        mapper.round();
        mapper.close();
        assertEquals(1, upnp.deletes);
        assertTrue(mapper.current().isEmpty());
    }

    @Test
    void aClientThatThrowsIsAClientThatDidNotAnswer() {
        FakeClient broken = new FakeClient(PortMapProtocol.PCP, true) {
            @Override
            public Optional<Lease> map(InetAddress gateway, int internalPort, Duration lifetime, Lease previous)
                    throws IOException {
                throw new IOException("network unreachable");
            }
        };
        FakeClient natPmp = new FakeClient(PortMapProtocol.NAT_PMP, true);
        PortMapper mapper = mapper(broken, natPmp);
        mapper.round();
        assertEquals(PortMapProtocol.NAT_PMP, mapper.current().orElseThrow().protocol());
    }

    private PortMapper mapper(MappingClient... clients) {
        return new PortMapper(51820, List.of(clients), () -> Optional.ofNullable(router.get())
                .map(gateway -> new PortMapper.Network(gateway, local.get())), SLOW, changes::add, executor);
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private class FakeClient implements MappingClient {
        private final PortMapProtocol protocol;
        boolean grants;
        boolean valid = true;
        int maps;
        int deletes;
        Lease lastPrevious;
        Lease lastGranted;

        FakeClient(PortMapProtocol protocol, boolean grants) {
            this.protocol = protocol;
            this.grants = grants;
        }

        @Override
        public PortMapProtocol protocol() {
            return protocol;
        }

        @Override
        public Optional<Lease> map(InetAddress gateway, int internalPort, Duration lifetime, Lease previous)
                throws IOException {
            maps++;
            lastPrevious = previous;
            if (!grants) {
                return Optional.empty();
            }
            PortMapping mapping = new PortMapping(protocol, gateway, new InetSocketAddress("192.0.3.201", internalPort),
                    internalPort, Instant.now().plus(lifetime));
            lastGranted = new Lease(mapping, lifetime, local.get(), new byte[12], null, null);
            return Optional.of(lastGranted);
        }

        @Override
        public boolean stillValid(Lease lease) {
            return valid;
        }

        @Override
        public void delete(Lease lease) {
            deletes++;
        }
    }
}
