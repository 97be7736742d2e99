package io.meshwork.tests.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabException;
import io.meshwork.lab.LabProcess;
import io.meshwork.lab.tools.TcpTransfer;
import io.meshwork.node.cli.WgDeviceCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * meshwork's userspace WireGuard against stock wireguard-go, both configured only with stock {@code wg} and
 * {@code ip}, in two namespaces on the lab internet.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WireGuardInteropLabTest {

    private static final String MESHWORK_IF = "mwgim0";
    private static final String WIREGUARD_GO_IF = "mwgig0";
    private static final String MESHWORK_OVERLAY = "10.99.0.1";
    private static final String WIREGUARD_GO_OVERLAY = "10.99.0.2";

    private static Lab lab;
    private static Host meshworkHost;
    private static Host wireguardGoHost;
    private static LabProcess meshworkDevice;
    private static String meshworkPublic;
    private static String wireguardGoPublic;

    @BeforeAll
    static void twoPeers() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("wireguard-go", "wg");
        lab = Lab.create("mwgi");
        meshworkHost = lab.publicHost("mesh", "203.0.113.1");
        wireguardGoHost = lab.publicHost("wggo", "203.0.113.2");
        meshworkPublic = keypair(meshworkHost, "mesh");
        wireguardGoPublic = keypair(wireguardGoHost, "wggo");

        meshworkDevice = meshworkHost.java(WgDeviceCommand.class, MESHWORK_IF, "--foreground");
        meshworkDevice.awaitOutput(Pattern.compile("up, UAPI at"), Duration.ofSeconds(30));
        wireguardGoHost.spawn("wireguard-go", java.util.List.of("wireguard-go", "-f", WIREGUARD_GO_IF));
        awaitSocket(WIREGUARD_GO_IF);

        configure(meshworkHost, MESHWORK_IF, "mesh", wireguardGoPublic, WIREGUARD_GO_OVERLAY, "203.0.113.2",
                MESHWORK_OVERLAY);
        configure(wireguardGoHost, WIREGUARD_GO_IF, "wggo", meshworkPublic, MESHWORK_OVERLAY, "203.0.113.1",
                WIREGUARD_GO_OVERLAY);
    }

    @AfterAll
    static void tearDown() {
        if (lab != null) {
            lab.close();
        }
    }

    private static String keypair(Host host, String name) {
        Path key = lab.directory().resolve(name + ".key");
        host.exec("sh", "-c", "umask 077; wg genkey > " + key).orThrow();
        return host.exec("sh", "-c", "wg pubkey < " + key).orThrow().stdout().strip();
    }

    private static void configure(Host host, String ifname, String name, String peerPublic, String peerOverlay,
            String peerAddress, String ownOverlay) {
        host.exec("wg", "set", ifname, "private-key", lab.directory().resolve(name + ".key").toString(),
                "listen-port", "51820", "peer", peerPublic, "allowed-ips", peerOverlay + "/32",
                "endpoint", peerAddress + ":51820").orThrow();
        host.exec("ip", "addr", "add", ownOverlay + "/24", "dev", ifname).orThrow();
        host.exec("ip", "link", "set", ifname, "up").orThrow();
    }

    private static void awaitSocket(String ifname) throws InterruptedException {
        Path socket = Path.of("/var/run/wireguard", ifname + ".sock");
        for (int i = 0; i < 100 && !Files.exists(socket); i++) {
            Thread.sleep(100);
        }
        if (!Files.exists(socket)) {
            throw new LabException("no UAPI socket " + socket);
        }
    }

    /** The meshwork side's view of its peer, from stock {@code wg show dump}. */
    private static String[] meshworkPeerDump() {
        String dump = meshworkHost.exec("wg", "show", MESHWORK_IF, "dump").orThrow().stdout();
        String[] lines = dump.strip().split("\n");
        assertEquals(2, lines.length, dump);
        String[] interfaceLine = lines[0].split("\t");
        assertEquals(meshworkPublic, interfaceLine[1], dump);
        assertEquals("51820", interfaceLine[2], dump);
        return lines[1].split("\t");
    }

    @Test
    @Order(1)
    void meshworkInitiatesAndBothSidesPing() {
        assertTrue(meshworkHost.pingWithin(WIREGUARD_GO_OVERLAY, Duration.ofSeconds(20)), "meshwork -> wireguard-go");
        assertTrue(wireguardGoHost.ping(MESHWORK_OVERLAY, 3), "wireguard-go -> meshwork");
        String[] peer = meshworkPeerDump();
        assertEquals(wireguardGoPublic, peer[0]);
        assertEquals("203.0.113.2:51820", peer[2]);
        assertEquals(WIREGUARD_GO_OVERLAY + "/32", peer[3]);
        assertTrue(Long.parseLong(peer[4]) > 0, "latest handshake is set");
        assertTrue(Long.parseLong(peer[5]) > 0 && Long.parseLong(peer[6]) > 0, "transfer counters move");
    }

    @Test
    @Order(2)
    void tcpStreamsArriveIntactBothWays() {
        transfer(wireguardGoHost, meshworkHost, WIREGUARD_GO_OVERLAY, 7001, 8 << 20);
        transfer(meshworkHost, wireguardGoHost, MESHWORK_OVERLAY, 7002, 8 << 20);
    }

    private static void transfer(Host receiver, Host sender, String receiverOverlay, int port, int bytes) {
        LabProcess sink = receiver.java(TcpTransfer.class, "--listen", Integer.toString(port));
        sink.awaitOutput(Pattern.compile("listening"), Duration.ofSeconds(30));
        ExecResult sent = sender.javaExec(Duration.ofSeconds(120), TcpTransfer.class.getName(),
                "--connect", receiverOverlay + ":" + port, "--bytes", Integer.toString(bytes), "--seed", "7");
        assertEquals(0, sent.exitCode(), sent.describe());
        Matcher received = sink.awaitOutput(Pattern.compile("bytes=\\d+ sha256=[0-9a-f]+"), Duration.ofSeconds(60));
        assertEquals(sent.stdout().strip(), received.group(), "the receiver got exactly the bytes sent");
        assertTrue(received.group().startsWith("bytes=" + bytes + " "));
    }

    @Test
    @Order(3)
    void hostileDatagramsAreDroppedAndTheSessionSurvives() {
        String handshakeBefore = meshworkPeerDump()[4];
        // Random junk, junk shaped like each WireGuard message type, and an initiation-sized blob with a bad mac1.
        wireguardGoHost.exec(Duration.ofSeconds(60), "bash", "-c",
                "for i in $(seq 300); do head -c $((RANDOM % 300)) /dev/urandom > /dev/udp/203.0.113.1/51820; done;"
                        + " for t in 1 2 3 4; do for n in 148 92 64 32 33 200; do"
                        + " (printf \"\\\\x0$t\\\\x00\\\\x00\\\\x00\"; head -c $((n - 4)) /dev/urandom)"
                        + " > /dev/udp/203.0.113.1/51820; done; done").orThrow();
        assertTrue(meshworkDevice.isAlive(), "the meshwork device is still running");
        assertTrue(meshworkHost.ping(WIREGUARD_GO_OVERLAY, 2), "the session still carries traffic");
        String[] peer = meshworkPeerDump();
        assertEquals(handshakeBefore, peer[4], "junk did not force a new handshake");
        assertEquals("203.0.113.2:51820", peer[2], "junk did not move the endpoint");
    }

    @Test
    @Order(4)
    void wireguardGoInitiatesAFreshSession() throws Exception {
        // Forget the session on both sides, then let wireguard-go speak first.
        meshworkHost.exec("wg", "set", MESHWORK_IF, "peer", wireguardGoPublic, "remove").orThrow();
        wireguardGoHost.exec("wg", "set", WIREGUARD_GO_IF, "peer", meshworkPublic, "remove").orThrow();
        assertEquals("", meshworkHost.exec("wg", "show", MESHWORK_IF, "peers").stdout().strip());
        meshworkHost.exec("wg", "set", MESHWORK_IF, "peer", wireguardGoPublic, "allowed-ips",
                WIREGUARD_GO_OVERLAY + "/32").orThrow();
        wireguardGoHost.exec("wg", "set", WIREGUARD_GO_IF, "peer", meshworkPublic, "allowed-ips",
                MESHWORK_OVERLAY + "/32", "endpoint", "203.0.113.1:51820").orThrow();
        assertEquals("(none)", meshworkPeerDump()[2], "meshwork does not know wireguard-go's endpoint yet");
        assertTrue(wireguardGoHost.pingWithin(MESHWORK_OVERLAY, Duration.ofSeconds(20)), "wireguard-go -> meshwork");
        String[] peer = meshworkPeerDump();
        assertEquals("203.0.113.2:51820", peer[2], "meshwork learned the endpoint from the handshake");
        assertNotEquals("0", peer[4]);
        assertTrue(meshworkHost.ping(WIREGUARD_GO_OVERLAY, 2), "meshwork answers on the session it accepted");
    }

    @Test
    @Order(5)
    void showconfRoundTripsThroughStockWg() {
        String conf = meshworkHost.exec("wg", "showconf", MESHWORK_IF).orThrow().stdout();
        assertTrue(conf.contains("ListenPort = 51820"), conf);
        assertTrue(conf.contains("PublicKey = " + wireguardGoPublic), conf);
        assertTrue(conf.contains("AllowedIPs = " + WIREGUARD_GO_OVERLAY + "/32"), conf);
    }
}
