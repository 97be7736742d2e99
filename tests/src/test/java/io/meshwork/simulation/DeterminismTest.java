package io.meshwork.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One seed, one run: the same scenario twice gives the same packets at the same virtual instants. */
class DeterminismTest {

    /** What a run leaves behind: every packet's fate in order, and every NAT's mappings. */
    private record Run(List<String> trace, List<NatMapping> mappings) {
    }

    /**
     * Hosts behind random-port and sequential NATs and a carrier-grade NAT, on jittery, lossy links, all
     * talking to two servers and to each other's public endpoints at once.
     */
    private static Run run(long seed) {
        DiscreteEventScheduler scheduler = new DiscreteEventScheduler(seed);
        VirtualNetwork network = new VirtualNetwork(scheduler);
        List<String> trace = new ArrayList<>();
        network.addObserver(event -> trace.add(event.toString()));
        List<ProbeSocket> servers = List.of(
                ProbeSocket.open(network.addPublicHost("s1", "203.0.113.1"), 3478, scheduler),
                ProbeSocket.open(network.addPublicHost("s2", "203.0.113.2"), 3478, scheduler));
        List<Site> sites = List.of(NatPreset.SYMMETRIC_RANDOM.build(network, "random"),
                NatPreset.SYMMETRIC_SEQUENTIAL.build(network, "sequential"),
                NatPreset.CARRIER_GRADE_DOUBLE_NAT.build(network, "cgnat"));
        List<ProbeSocket> clients = new ArrayList<>();
        for (Site site : sites) {
            clients.add(ProbeSocket.open(site.addHost("client-" + site.name()), 0, scheduler));
        }
        for (Link link : network.links()) {
            link.setProfile(link.profile().withJitter(Duration.ofMillis(3)).withLoss(0.1));
        }
        int[] echoed = new int[servers.size()];
        for (int round = 0; round < 20; round++) {
            for (ProbeSocket client : clients) {
                for (ProbeSocket server : servers) {
                    client.send("round " + round, server.address());
                }
            }
            scheduler.advance(Duration.ofMillis(50));
            for (int i = 0; i < servers.size(); i++) {
                ProbeSocket server = servers.get(i);
                List<ProbeSocket.Received> received = server.received();
                for (ProbeSocket.Received fresh : received.subList(echoed[i], received.size())) {
                    server.send("echo", fresh.sender());
                }
                echoed[i] = received.size();
            }
            scheduler.advance(Duration.ofMillis(50));
        }
        List<NatMapping> mappings = new ArrayList<>();
        for (Site site : sites) {
            mappings.addAll(site.requireNat().mappings());
        }
        mappings.addAll(network.site("cgnat-carrier").requireNat().mappings());
        return new Run(trace, mappings);
    }

    @Test
    void theSameSeedGivesTheSameTraceAndMappings() {
        Run first = run(2024);
        Run second = run(2024);
        assertTrue(first.trace().size() > 150, "a busy scenario: " + first.trace().size() + " events");
        assertTrue(first.trace().stream().anyMatch(event -> event.contains("lost")), "loss happened");
        assertEquals(first.trace(), second.trace());
        assertEquals(first.mappings(), second.mappings());
    }

    @Test
    void anotherSeedGivesAnotherRun() {
        Run first = run(2024);
        Run other = run(2025);
        assertNotEquals(first.trace(), other.trace());
        assertNotEquals(first.mappings(), other.mappings());
    }
}
