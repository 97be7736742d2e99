package io.meshwork.node.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.net.IpLiteral;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host's use of the resolver in each {@code --dns} mode, against files in a temporary directory and a
 * recorded command runner: the commands systemd-resolved would be given, and a resolv.conf rewritten and put back.
 */
class HostDnsTest {

    private static final String ORIGINAL = "# from DHCP\nnameserver 192.0.2.53\nnameserver 100.100.100.100\n"
            + "nameserver 2001:db8::53\nsearch corp.example\noptions timeout:2\n";
    private static final List<InetAddress> RESOLVER = List.of(IpLiteral.parse("100.100.100.100"),
            IpLiteral.parse("fd12:3456:789a:0:100:100:100:100"));

    @TempDir
    Path directory;

    private final List<String> commands = new ArrayList<>();

    private HostDns host(HostDns.Mode mode) throws IOException {
        Path state = Files.createDirectories(directory.resolve("state"));
        return new HostDns(mode, "mw0", directory.resolve("resolv.conf"), state, directory.resolve("resolve"),
                command -> commands.add(String.join(" ", command)));
    }

    private void resolvedRuns() throws IOException {
        Files.createDirectories(directory.resolve("resolve"));
        Files.writeString(directory.resolve("resolve/stub-resolv.conf"), "nameserver 127.0.0.53\n");
    }

    private String resolvConf() throws IOException {
        return Files.readString(directory.resolve("resolv.conf"));
    }

    @Test
    void resolvedModeSetsTheLinksServersAndRoutingDomainOnlyAndRevertsThem() throws IOException {
        Files.writeString(directory.resolve("resolv.conf"), ORIGINAL);
        HostDns host = host(HostDns.Mode.RESOLVED);
        host.apply("meshwork.internal", RESOLVER);
        assertEquals(List.of("resolvectl dns mw0 100.100.100.100 fd12:3456:789a:0:100:100:100:100",
                "resolvectl domain mw0 ~meshwork.internal", "resolvectl default-route mw0 false"), commands);
        assertEquals(HostDns.Mode.RESOLVED, host.effective());
        assertEquals(ORIGINAL, resolvConf(), "split DNS: the host's resolv.conf is not touched");
        host.domainChanged("corp.internal");
        assertEquals("resolvectl domain mw0 ~corp.internal", commands.get(3));
        host.restore();
        assertEquals("resolvectl revert mw0", commands.get(4));
        assertEquals(HostDns.Mode.OFF, host.effective());
    }

    @Test
    void autoUsesResolvedWhenItRuns() throws IOException {
        resolvedRuns();
        HostDns host = host(HostDns.Mode.AUTO);
        host.apply("meshwork.internal", RESOLVER);
        assertEquals(HostDns.Mode.RESOLVED, host.effective());
        assertEquals("resolvectl domain mw0 ~meshwork.internal", commands.get(1));
    }

    @Test
    void autoWithoutResolvedChangesNothingAndSaysHowToEnableIt() throws IOException {
        Files.writeString(directory.resolve("resolv.conf"), ORIGINAL);
        HostDns host = host(HostDns.Mode.AUTO);
        host.apply("meshwork.internal", RESOLVER);
        assertEquals(HostDns.Mode.OFF, host.effective());
        assertEquals(List.of(), commands);
        assertEquals(ORIGINAL, resolvConf());
        assertTrue(host.note().contains("--dns resolvconf"), host.note());
    }

    @Test
    void offChangesNothing() throws IOException {
        resolvedRuns();
        Files.writeString(directory.resolve("resolv.conf"), ORIGINAL);
        HostDns host = host(HostDns.Mode.OFF);
        host.apply("meshwork.internal", RESOLVER);
        host.restore();
        assertEquals(List.of(), commands);
        assertEquals(ORIGINAL, resolvConf());
    }

    @Test
    void resolvconfModeNamesTheResolverSearchesTheDomainAndRestoresTheOriginal() throws IOException {
        Files.writeString(directory.resolve("resolv.conf"), ORIGINAL);
        HostDns host = host(HostDns.Mode.RESOLVCONF);
        host.apply("meshwork.internal", RESOLVER);
        assertEquals(HostDns.Mode.RESOLVCONF, host.effective());
        List<String> lines = resolvConf().lines().filter(line -> !line.startsWith("#")).toList();
        assertEquals(List.of("nameserver 100.100.100.100", "nameserver fd12:3456:789a:0:100:100:100:100",
                "search meshwork.internal corp.example", "options timeout:2", "options edns0"), lines);
        assertEquals(ORIGINAL, Files.readString(directory.resolve("state").resolve(HostDns.BACKUP_FILE)));
        host.restore();
        assertEquals(ORIGINAL, resolvConf());
        assertFalse(Files.exists(directory.resolve("state").resolve(HostDns.BACKUP_FILE)));
    }

    @Test
    void aResolvConfLeftByACrashIsRestoredAtTheNextStartAndItsServersAreTheOriginals() throws IOException {
        Files.writeString(directory.resolve("resolv.conf"), ORIGINAL);
        HostDns crashed = host(HostDns.Mode.RESOLVCONF);
        crashed.apply("meshwork.internal", RESOLVER);
        // No restore: the process died. The next start recovers before it reads the host's servers.
        HostDns next = host(HostDns.Mode.RESOLVCONF);
        next.recover();
        assertEquals(ORIGINAL, resolvConf());
        List<InetSocketAddress> servers = next.hostServers(RESOLVER);
        assertEquals(List.of(new InetSocketAddress(IpLiteral.parse("192.0.2.53"), 53),
                new InetSocketAddress(IpLiteral.parse("2001:db8::53"), 53)), servers,
                "the resolver's own address is never an upstream");
    }

    @Test
    void aSymlinkedResolvConfIsLeftAloneInResolvconfMode() throws IOException {
        Path target = Files.writeString(directory.resolve("stub"), ORIGINAL);
        Files.createSymbolicLink(directory.resolve("resolv.conf"), target);
        HostDns host = host(HostDns.Mode.RESOLVCONF);
        host.apply("meshwork.internal", RESOLVER);
        assertEquals(HostDns.Mode.OFF, host.effective());
        assertNotNull(host.note());
        assertEquals(ORIGINAL, Files.readString(target));
    }

    @Test
    void aFailingResolvectlLeavesTheModeOffWithTheReason() throws IOException {
        HostDns host = new HostDns(HostDns.Mode.RESOLVED, "mw0", directory.resolve("resolv.conf"), directory,
                directory.resolve("resolve"), command -> {
                    throw new IOException("resolvectl: Failed to set DNS configuration: Unit dbus-org.freedesktop"
                            + ".resolve1.service not found.");
                });
        host.apply("meshwork.internal", RESOLVER);
        assertEquals(HostDns.Mode.OFF, host.effective());
        assertTrue(host.note().contains("not found"), host.note());
    }
}
