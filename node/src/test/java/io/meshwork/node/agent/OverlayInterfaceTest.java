package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The interface's addresses from control's prefixes, on hosts with and without IPv6, against a fake /proc. */
class OverlayInterfaceTest {

    private static final List<String> OVERLAY = List.of("10.77.0.2", "fd12:3456:789a:1::2");
    private static final List<String> PREFIXES = List.of("10.77.0.0/16", "fd12:3456:789a:1::/64");

    @TempDir
    Path proc;

    private final List<String> commands = new ArrayList<>();
    private String failWith;

    private OverlayInterface overlay() {
        return new OverlayInterface("mw0", proc, command -> {
            String line = String.join(" ", command);
            commands.add(line);
            if (failWith != null && line.startsWith("ip -6 addr replace")) {
                throw new IOException(line + " failed: " + failWith);
            }
        });
    }

    private void ipv6(String scope, String disabled) throws IOException {
        Path conf = proc.resolve("sys/net/ipv6/conf").resolve(scope);
        Files.createDirectories(conf);
        Files.writeString(conf.resolve("disable_ipv6"), disabled + "\n");
    }

    @Test
    void addressesTakeTheOrganizationsPrefixLengths() throws IOException {
        ipv6("all", "0");
        OverlayInterface.Configured configured = overlay().configure(OVERLAY, PREFIXES);
        assertEquals(List.of("ip -4 addr replace 10.77.0.2/16 dev mw0",
                "ip -6 addr replace fd12:3456:789a:1::2/64 dev mw0", "ip link set mw0 up"), commands);
        assertEquals(List.of("10.77.0.2/16", "fd12:3456:789a:1::2/64"), configured.addresses());
        assertNull(configured.overlayNote());
    }

    @Test
    void anEightBitOrganizationIsNotCutToTen() {
        assertEquals(8, OverlayInterface.prefixLength("10.1.2.3", List.of("10.0.0.0/8")));
        assertEquals(24, OverlayInterface.prefixLength("100.64.0.9", List.of("fd00::/64", "100.64.0.0/24")));
        assertEquals(64, OverlayInterface.prefixLength("fd00::9", List.of("100.64.0.0/24")));
        assertEquals(OverlayInterface.LEGACY_IPV4_PREFIX_LENGTH, OverlayInterface.prefixLength("100.64.0.9", null));
        assertEquals(OverlayInterface.LEGACY_IPV4_PREFIX_LENGTH,
                OverlayInterface.prefixLength("100.64.0.9", List.of("100.64.0.0/99", "junk")));
    }

    @Test
    void aSnapshotWithTheSamePrefixesHasNothingToChange() throws IOException {
        ipv6("all", "1");
        OverlayInterface overlay = overlay();
        overlay.configure(OVERLAY, PREFIXES);
        assertTrue(overlay.hasAddresses(OVERLAY, PREFIXES), "the IPv6 address this host cannot have does not count");
        assertTrue(!overlay.hasAddresses(OVERLAY, List.of("10.77.0.0/24")), "another length is a change");
    }

    @Test
    void aSnapshotWithPrefixesReplacesTheLegacyLength() throws IOException {
        ipv6("all", "0");
        OverlayInterface overlay = overlay();
        overlay.configure(OVERLAY, null);
        commands.clear();
        overlay.configure(OVERLAY, PREFIXES);
        assertEquals("ip -4 addr del 10.77.0.2/10 dev mw0", commands.get(0));
        assertTrue(commands.contains("ip -4 addr replace 10.77.0.2/16 dev mw0"), commands.toString());
    }

    @Test
    void ipv6DisabledOnTheHostLeavesAnIpv4OnlyOverlayThatSaysWhy() throws IOException {
        ipv6("all", "1");
        OverlayInterface.Configured configured = overlay().configure(OVERLAY, PREFIXES);
        assertEquals(List.of("ip -4 addr replace 10.77.0.2/16 dev mw0", "ip link set mw0 up"), commands);
        assertEquals("IPv4 only: IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6=1)",
                configured.overlayNote());
    }

    @Test
    void aKernelWithoutIpv6LeavesAnIpv4OnlyOverlay() throws IOException {
        OverlayInterface.Configured configured = overlay().configure(OVERLAY, PREFIXES);
        assertEquals(List.of("10.77.0.2/16"), configured.addresses());
        assertTrue(configured.overlayNote().contains("ipv6.disable=1"), configured.overlayNote());
    }

    @Test
    void ipRefusingIpv6OnTheDeviceIsTakenAsIpv4Only() throws IOException {
        ipv6("all", "0");
        failWith = "Error: ipv6: IPv6 is disabled on this device.";
        OverlayInterface.Configured configured = overlay().configure(OVERLAY, PREFIXES);
        assertEquals(List.of("10.77.0.2/16"), configured.addresses());
        assertTrue(configured.overlayNote().startsWith("IPv4 only: IPv6 is disabled on mw0"), configured.overlayNote());
    }

    @Test
    void otherFailuresStillFail() throws IOException {
        ipv6("all", "0");
        failWith = "Error: Cannot find device \"mw0\"";
        assertThrows(IOException.class, () -> overlay().configure(OVERLAY, PREFIXES));
    }
}
