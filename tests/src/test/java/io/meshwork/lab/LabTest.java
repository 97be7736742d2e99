package io.meshwork.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The lab helpers themselves: topology, NAT behaviour as the stock stun client sees it, and clean-up. */
class LabTest {

    @BeforeAll
    static void needsLab() {
        LabAssumptions.assumeLabAvailable();
    }

    @Test
    void sitesReachTheInternetThroughTheirGatewaysAndAreHiddenBehindThem() {
        String leftoverNamespaces;
        try (Lab lab = Lab.create("mwlab")) {
            Host server = lab.publicHost("server", "203.0.113.10");
            Site home = lab.site("home", NatKind.ENDPOINT_INDEPENDENT);
            Host laptop = home.host("laptop");
            Host phone = home.host("phone");

            assertEquals("10.1.0.10", laptop.address());
            assertEquals("10.1.0.11", phone.address());
            assertTrue(laptop.ping(server.address(), 1), "LAN host reaches the internet");
            assertTrue(laptop.ping(phone.address(), 1), "hosts on one LAN reach each other");
            assertFalse(server.ping(laptop.address(), 1), "a private address is not routable from the internet");

            // Conntrack on the gateway shows the LAN host's ping rewritten to the gateway's public address.
            String conntrack = home.gateway().exec("cat", "/proc/net/nf_conntrack").stdout();
            if (!conntrack.isEmpty()) {
                assertTrue(conntrack.contains("src=" + home.publicAddress()) || conntrack.contains("dst=" + home.publicAddress()),
                        conntrack);
            }
            leftoverNamespaces = String.join(",", namespaces(lab.tag()));
            assertTrue(leftoverNamespaces.contains("mwlab-inet"), leftoverNamespaces);
        }
        assertEquals(List.of(), namespaces("mwlab"), "closing the lab deletes every namespace it made");
    }

    @Test
    void theWorkingDirectoryIsTheOwnersAloneFromTheStartAndGoesWithTheLab() throws IOException {
        Path directory;
        try (Lab lab = Lab.create("mwlabd", Lab.WorkDirectory.REMOVE)) {
            directory = lab.directory();
            assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(directory));
            Host host = lab.publicHost("server", "203.0.113.10");
            // A process of the lab that wrote into it and still runs when the lab closes, as a node does.
            Path state = directory.resolve("state-server");
            host.spawn("sh", "-c", "mkdir -p " + state + " && echo key > " + state.resolve("identity.json")
                            + " && echo written && exec sleep 600")
                    .awaitOutput(Pattern.compile("written"), Duration.ofSeconds(30));
            assertTrue(Files.exists(state.resolve("identity.json")));
        }
        assertFalse(Files.exists(directory), "closing the lab removes its directory: " + directory);
    }

    @Test
    void aLabCreatedToKeepItsDirectoryLeavesIt() throws IOException {
        Path directory;
        try (Lab lab = Lab.create("mwlabk", Lab.WorkDirectory.KEEP)) {
            directory = lab.directory();
            Files.writeString(directory.resolve("control.conf"), "kept\n");
        }
        try {
            assertEquals("kept\n", Files.readString(directory.resolve("control.conf")));
            assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(directory));
        } finally {
            Files.delete(directory.resolve("control.conf"));
            Files.delete(directory);
        }
    }

    @Test
    void udpBlockedSiteStillPassesTcpAndIcmp() {
        LabAssumptions.assumePrograms("turnserver", "stun");
        try (Lab lab = Lab.create("mwlabu")) {
            Host server = lab.publicHost("server", "203.0.113.10", "203.0.113.11");
            Site blocked = lab.site("blocked", NatKind.UDP_BLOCKED);
            Host host = blocked.host("host");
            Path coturnFiles;
            try (Coturn coturn = Coturn.start(server, 3478, "203.0.113.10", "203.0.113.11")) {
                coturnFiles = coturn.directory();
                assertTrue(Files.isDirectory(coturnFiles));
                assertTrue(host.ping(server.address(), 1));
                ExecResult stun = host.exec(Duration.ofSeconds(30), "stun", server.address(), "-p", "3478");
                assertTrue(stun.stdout().contains("blocked") || stun.stdout().contains("Blocked")
                                || stun.stdout().contains("server not responding"),
                        stun.describe());
            }
            assertFalse(Files.exists(coturnFiles), "closing coturn removes its files");
        }
    }

    @Test
    void leftoversFromAnEarlierRunAreRemoved() {
        Shell.run(List.of("ip", "netns", "add", "mwlabl-stale")).orThrow();
        try (Lab lab = Lab.create("mwlabl")) {
            assertFalse(namespaces("mwlabl").contains("mwlabl-stale"));
        }
        assertEquals(List.of(), namespaces("mwlabl"));
    }

    private static List<String> namespaces(String tag) {
        return Shell.run(List.of("ip", "netns", "list")).stdout().lines()
                .map(line -> line.split("\\s+")[0])
                .filter(name -> name.startsWith(tag + "-"))
                .toList();
    }
}
