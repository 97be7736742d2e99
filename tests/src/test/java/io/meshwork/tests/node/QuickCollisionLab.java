package io.meshwork.tests.node;

import io.meshwork.lab.Site;
import io.meshwork.node.tunnel.TunnelSettings;
import java.time.Duration;

/**
 * Lab time for conntrack collisions (docs/performance.md, "Past a conntrack collision"): the input-accepting
 * gateways forget an unreplied UDP entry after {@link #UDP_TIMEOUT} instead of Linux's 30 s
 * ({@code net.netfilter.nf_conntrack_udp_timeout}, per namespace), and the nodes started meanwhile wait
 * {@link #QUIET} instead of 35 s after a suspected collision ({@link TunnelSettings#COLLISION_QUIET_PROPERTY}, passed
 * on to the node JVMs the lab starts). The margin between the two stays 5 s, as with the defaults, so the collision
 * and its resolution happen as on a real gateway, only sooner.
 */
final class QuickCollisionLab implements AutoCloseable {

    static final Duration UDP_TIMEOUT = Duration.ofSeconds(10);
    static final Duration QUIET = Duration.ofSeconds(15);

    private QuickCollisionLab() {}

    /** Lowers the UDP timeout on {@code sites}' gateways and the quiet period of nodes started until {@link #close}. */
    static QuickCollisionLab on(Site... sites) {
        for (Site site : sites) {
            site.gateway().exec("sysctl", "-q", "-w", "net.netfilter.nf_conntrack_udp_timeout=" + UDP_TIMEOUT.toSeconds())
                    .orThrow();
        }
        System.setProperty(TunnelSettings.COLLISION_QUIET_PROPERTY, QUIET.toString());
        return new QuickCollisionLab();
    }

    @Override
    public void close() {
        System.clearProperty(TunnelSettings.COLLISION_QUIET_PROPERTY);
    }
}
