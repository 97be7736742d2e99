package io.meshwork.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.net.Prefix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router's host changes: forwarding on and SNAT rules in, for iptables and nftables, and everything of it
 * undone at node down and by the next start after a crash, from what the state directory recorded.
 */
class SubnetRouterTest {

    @TempDir
    Path state;

    private static final List<Prefix> OVERLAY = List.of(Prefix.parse("100.64.0.0/10"), Prefix.parse("fd00:1::/64"));

    private static SubnetRouter.Options lan(boolean snat) {
        return new SubnetRouter.Options("mw0", List.of(Prefix.parse("192.168.10.0/24")), false, snat, OVERLAY);
    }

    @Test
    void iptablesRouterForwardsAndMasqueradesTheOverlayToTheRouteAndNodeDownRemovesAllOfIt() throws IOException {
        FakeHost host = new FakeHost(Set.of("iptables", "ip6tables"));
        HostChanges changes = new HostChanges(state, host);
        assertEquals("iptables", SubnetRouter.install(changes, lan(true)));
        assertEquals("1", host.sysctls.get("/proc/sys/net/ipv4/ip_forward"));
        assertEquals("0", host.sysctls.get("/proc/sys/net/ipv6/conf/all/forwarding"), "no IPv6 route: untouched");
        List<String> installed = host.take();
        assertTrue(installed.contains("iptables -w -I FORWARD 1 -j MWF-mw0"), installed.toString());
        assertTrue(installed.contains("iptables -w -A MWF-mw0 -i mw0 -j ACCEPT"), installed.toString());
        assertTrue(installed.contains("iptables -w -t nat -A MWN-mw0 -s 100.64.0.0/10 -d 192.168.10.0/24 ! -o mw0 "
                + "-j MASQUERADE"), installed.toString());
        assertTrue(installed.contains("iptables -w -t nat -A POSTROUTING -j MWN-mw0"), installed.toString());
        assertTrue(Files.exists(state.resolve(HostChanges.FILE)), "what was changed is recorded");

        changes.undoAll();
        List<String> undone = host.take();
        assertEquals("iptables -w -t nat -D POSTROUTING -j MWN-mw0", undone.get(0), "newest first: the jump goes first");
        assertTrue(undone.contains("iptables -w -D FORWARD -j MWF-mw0"), undone.toString());
        assertTrue(undone.contains("iptables -w -t nat -X MWN-mw0"), undone.toString());
        assertEquals("iptables -w -X MWF-mw0", undone.get(undone.size() - 1));
        assertEquals(installed.size(), undone.size(), "every rule and chain has its undo");
        assertEquals("0", host.sysctls.get("/proc/sys/net/ipv4/ip_forward"), "forwarding back as it was");
        assertFalse(Files.exists(state.resolve(HostChanges.FILE)));
    }

    @Test
    void withoutSnatNothingIsMasqueraded() throws IOException {
        FakeHost host = new FakeHost(Set.of("iptables"));
        SubnetRouter.install(new HostChanges(state, host), lan(false));
        assertTrue(host.take().stream().noneMatch(line -> line.contains("nat")));
    }

    @Test
    void anExitNodeMasqueradesEverythingFromTheOverlayInBothFamilies() throws IOException {
        FakeHost host = new FakeHost(Set.of("iptables", "ip6tables"));
        SubnetRouter.install(new HostChanges(state, host),
                new SubnetRouter.Options("mw0", List.of(), true, true, OVERLAY));
        List<String> lines = host.take();
        assertTrue(lines.contains("iptables -w -t nat -A MWN-mw0 -s 100.64.0.0/10 ! -o mw0 -j MASQUERADE"), lines.toString());
        assertTrue(lines.contains("ip6tables -w -t nat -A MWN-mw0 -s fd00:1::/64 ! -o mw0 -j MASQUERADE"), lines.toString());
        assertEquals("1", host.sysctls.get("/proc/sys/net/ipv6/conf/all/forwarding"));
    }

    @Test
    void nftablesIsOneTableDeletedWhole() throws IOException {
        FakeHost host = new FakeHost(Set.of("nft", "iptables"));
        HostChanges changes = new HostChanges(state, host);
        assertEquals("nftables", SubnetRouter.install(changes, lan(true)));
        List<String> lines = host.take();
        assertEquals("nft add table inet meshwork-mw0", lines.get(0));
        assertTrue(lines.contains("nft add rule inet meshwork-mw0 postrouting ip saddr 100.64.0.0/10 ip daddr "
                + "192.168.10.0/24 oifname != mw0 masquerade"), lines.toString());
        changes.undoAll();
        assertEquals(List.of("nft delete table inet meshwork-mw0"), host.take());
    }

    @Test
    void aCrashedRunsChangesAreUndoneAtTheNextStart() throws IOException {
        FakeHost host = new FakeHost(Set.of("iptables"));
        SubnetRouter.install(new HostChanges(state, host), lan(true));
        int made = host.take().size();
        // The process dies here: nothing undone. The next start reads what it recorded.
        FakeHost after = new FakeHost(Set.of("iptables"));
        after.sysctls.put("/proc/sys/net/ipv4/ip_forward", "1");
        int undone = new HostChanges(state, after).recover();
        assertEquals(made + 1, undone, "every rule and the sysctl");
        assertEquals(made, after.take().size());
        assertEquals("0", after.sysctls.get("/proc/sys/net/ipv4/ip_forward"));
        assertFalse(Files.exists(state.resolve(HostChanges.FILE)));
        assertEquals(0, new HostChanges(state, after).recover(), "nothing left the second time");
    }

    @Test
    void aFailedCommandLeavesNoUndoBehindAndAHostWithoutAFirewallIsRefused() throws IOException {
        FakeHost host = new FakeHost(Set.of("iptables"));
        host.failing.add("-t nat -N");
        HostChanges changes = new HostChanges(state, host);
        assertThrows(IOException.class, () -> SubnetRouter.install(changes, lan(true)));
        assertTrue(changes.pending().stream().noneMatch(c -> String.join(" ", c).contains("-t nat -X")));
        changes.undoAll();
        IOException none = assertThrows(IOException.class,
                () -> SubnetRouter.install(new HostChanges(state, new FakeHost(Set.of())), lan(true)));
        assertTrue(none.getMessage().contains("neither nft nor iptables"), none.getMessage());
    }
}
