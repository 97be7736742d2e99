package io.meshwork.tests.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwork.node.agent.EndpointDiscovery;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.simulation.DiscreteEventScheduler;
import io.meshwork.simulation.PekkoSimScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** When endpoint discovery probes: at start, on its interval, when addresses change, when asked; one at a time. */
class EndpointDiscoveryTest {

    private static final DiscreteEventScheduler time = new DiscreteEventScheduler(5);
    private static final ActorTestKit testKit = ActorTestKit.create(
            com.typesafe.config.ConfigFactory.parseString(PekkoSimScheduler.config(time)));
    private static final AtomicInteger names = new AtomicInteger();

    private final AtomicInteger probes = new AtomicInteger();
    private final AtomicReference<List<String>> addresses = new AtomicReference<>(List.of("10.0.0.2"));
    private final List<EndpointDiscovery.Discovered> published = new ArrayList<>();

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    private ActorRef<EndpointDiscovery.Command> start(Duration interval) {
        return testKit.spawn(EndpointDiscovery.create(() -> {
                    probes.incrementAndGet();
                    return new EndpointDiscovery.Discovered(
                            List.of(new Endpoint(addresses.get().get(0) + ":51820", "local")), Map.of(), Set.of());
                }, addresses::get, interval, published::add, Runnable::run), "discovery-" + names.incrementAndGet(),
                DispatcherSelector.fromConfig(PekkoSimScheduler.CALLING_THREAD_DISPATCHER));
    }

    @Test
    void probesAtStartAndOnItsInterval() {
        start(Duration.ofSeconds(30));
        time.advance(Duration.ofMillis(10));
        assertEquals(1, probes.get(), "at start");
        time.advance(Duration.ofSeconds(30));
        assertEquals(2, probes.get(), "after one interval");
        assertEquals(2, published.size());
    }

    @Test
    void probesAgainWhenTheHostsAddressesChange() {
        start(Duration.ofMinutes(10));
        time.advance(Duration.ofMillis(10));
        addresses.set(List.of("192.168.7.9"));
        time.advance(Duration.ofSeconds(3));
        assertEquals(2, probes.get(), "an address change is noticed within a few seconds");
        assertEquals("192.168.7.9:51820", published.get(published.size() - 1).endpoints().get(0).address());
        time.advance(Duration.ofSeconds(10));
        assertEquals(2, probes.get(), "no change, no probe");
    }

    @Test
    void theFirstProbePublishesItsEndpointsBeforeItsNatTestsAndOnlyTheFirst() {
        EndpointDiscovery.Discovered early = new EndpointDiscovery.Discovered(List.of(
                new Endpoint("10.0.0.2:51820", "local"), new Endpoint("198.51.100.7:40001", "stun")), Map.of(),
                Set.of("198.51.100.7"));
        EndpointDiscovery.Discovered whole = new EndpointDiscovery.Discovered(early.endpoints(),
                Map.of("mapping", "ENDPOINT_INDEPENDENT"), early.publicIps());
        List<Boolean> offered = new ArrayList<>();
        testKit.spawn(EndpointDiscovery.createWithPreliminary(preliminary -> {
                    offered.add(preliminary != null);
                    if (preliminary != null) {
                        preliminary.accept(early);
                    }
                    return whole;
                }, addresses::get, Duration.ofSeconds(30), published::add, Runnable::run),
                "discovery-" + names.incrementAndGet(),
                DispatcherSelector.fromConfig(PekkoSimScheduler.CALLING_THREAD_DISPATCHER));
        time.advance(Duration.ofMillis(10));
        assertEquals(List.of(early, whole), published, "the endpoints first, then the whole discovery");
        time.advance(Duration.ofSeconds(30));
        assertEquals(List.of(true, false), offered, "later probes publish once, when done");
        assertEquals(List.of(early, whole, whole), published);
    }

    @Test
    void probesWhenAsked() {
        ActorRef<EndpointDiscovery.Command> discovery = start(Duration.ofMinutes(10));
        time.advance(Duration.ofMillis(10));
        discovery.tell(new EndpointDiscovery.ProbeNow("a direct path died"));
        time.advance(Duration.ofMillis(10));
        assertEquals(2, probes.get());
    }
}
