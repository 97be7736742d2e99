package io.meshwork.demo.simulated;

import io.meshwork.simulation.NatPreset;
import java.util.List;

/**
 * The sites of {@code meshwork demo} and who lives in them, as the simulation builds them. The first four mirror
 * the network-namespace demo's gateways: Linux {@code MASQUERADE} is a port-restricted cone (endpoint-independent
 * mapping, address-and-port-dependent filtering, no hairpinning), {@code --random-fully} a symmetric NAT with
 * random ports, and the guest network drops UDP. The hotel's symmetric NAT allocates ports in sequence, which
 * stock iptables cannot do: there port prediction opens a direct path a random-port NAT never allows.
 */
public final class DemoScenario {

    /** One site: its name, the NAT in front of it, how the demo describes it, and the nodes in it. */
    public record DemoSite(String name, NatPreset nat, String description, List<String> nodes) {}

    public static final List<DemoSite> SITES = List.of(
            new DemoSite("home", NatPreset.SAME_LAN, "endpoint-independent NAT, two nodes on one LAN",
                    List.of("alice", "bob")),
            new DemoSite("office", NatPreset.PORT_RESTRICTED_CONE, "endpoint-independent NAT", List.of("carol")),
            new DemoSite("cafe", NatPreset.SYMMETRIC_RANDOM, "symmetric NAT, random ports", List.of("dave")),
            new DemoSite("guest", NatPreset.UDP_BLOCKED, "UDP blocked", List.of("erin")),
            new DemoSite("hotel", NatPreset.SYMMETRIC_SEQUENTIAL, "symmetric NAT, sequential ports",
                    List.of("frank")));

    private DemoScenario() {}
}
