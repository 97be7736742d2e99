package io.meshwork.tests.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabProcess;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.Site;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.relay.auth.DeviceCertificateIssuer;
import io.meshwork.relay.cli.RelayCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay between real Linux NATs (docs/architecture.md, "Simulation and lab"): hosts that cannot reach each other
 * directly still exchange datagrams through it, over TCP where the NAT drops all UDP, and over UDP between symmetric
 * NATs.
 */
class RelayLabTest {

    private static final String RELAY_IP = "203.0.113.10";
    private static final String RELAY = RELAY_IP + ":3340";
    private static final Pattern CONNECTED = Pattern.compile("connected transport=(\\w+) observed=([0-9.]+):(\\d+)");
    private static final Pattern RECEIVED = Pattern.compile("received (\\d+) from");

    @BeforeAll
    static void needsLab() {
        LabAssumptions.assumeLabAvailable();
    }

    @Test
    void hostsBehindAUdpBlockingNatMeetOverTcp() throws Exception {
        try (Lab lab = Lab.create("mwrtcp")) {
            Site site = lab.site("blocked", NatKind.UDP_BLOCKED);
            Exchange exchange = new Exchange(lab, site.host("alice"), site.host("bob"));
            Matcher alice = exchange.aliceProcess.awaitOutput(CONNECTED, Duration.ofSeconds(30));
            Matcher bob = exchange.bobProcess.awaitOutput(CONNECTED, Duration.ofSeconds(30));
            // Both tried UDP first; the NAT dropped it, so they fell back to TCP.
            assertEquals("TCP", alice.group(1));
            assertEquals("TCP", bob.group(1));
            assertEquals(site.publicAddress(), alice.group(2), "the relay sees the NAT's public address");
            exchange.assertBothReceived();
        }
    }

    @Test
    void hostsBehindSymmetricNatsMeetOverUdp() throws Exception {
        try (Lab lab = Lab.create("mwrsym")) {
            Site left = lab.site("left", NatKind.SYMMETRIC);
            Site right = lab.site("right", NatKind.SYMMETRIC);
            Exchange exchange = new Exchange(lab, left.host("alice"), right.host("bob"));
            Matcher alice = exchange.aliceProcess.awaitOutput(CONNECTED, Duration.ofSeconds(30));
            Matcher bob = exchange.bobProcess.awaitOutput(CONNECTED, Duration.ofSeconds(30));
            assertEquals("UDP", alice.group(1));
            assertEquals("UDP", bob.group(1));
            assertEquals(left.publicAddress(), alice.group(2), "observed address is the NAT's mapping");
            assertEquals(right.publicAddress(), bob.group(2));
            exchange.assertBothReceived();
        }
    }

    /** A relay on the internet and two enrolled peers running {@link RelayPeerCommand} towards each other. */
    private static final class Exchange {
        final LabProcess aliceProcess;
        final LabProcess bobProcess;

        Exchange(Lab lab, Host alice, Host bob) throws IOException {
            Path directory = lab.directory();
            DeviceCertificateIssuer ca = DeviceCertificateIssuer.create("lab control CA");
            Path caFile = Files.writeString(directory.resolve("ca.pem"), DeviceCertificateIssuer.toPem(ca.caCertificate()));
            Host relayHost = lab.publicHost("relay", RELAY_IP);
            LabProcess relay = relayHost.java(RelayCommand.class, "--ca", caFile.toString(),
                    "--udp", RELAY, "--tcp", RELAY);
            relay.awaitOutput(Pattern.compile("relay ready"), Duration.ofSeconds(30));
            SecureRandom random = new SecureRandom();
            byte[] aliceSecret = new byte[32];
            byte[] bobSecret = new byte[32];
            random.nextBytes(aliceSecret);
            random.nextBytes(bobSecret);
            RelayKeyPair aliceKeys = RelayKeyPair.fromPrivateKey(aliceSecret);
            RelayKeyPair bobKeys = RelayKeyPair.fromPrivateKey(bobSecret);
            String[] aliceFiles = writeCredential(directory, "alice", aliceSecret, ca, aliceKeys);
            String[] bobFiles = writeCredential(directory, "bob", bobSecret, ca, bobKeys);
            aliceProcess = alice.java(RelayPeerCommand.class, "--relay", RELAY, "--key", aliceFiles[0],
                    "--cert", aliceFiles[1], "--peer", bobKeys.publicKey().toBase64());
            bobProcess = bob.java(RelayPeerCommand.class, "--relay", RELAY, "--key", bobFiles[0],
                    "--cert", bobFiles[1], "--peer", aliceKeys.publicKey().toBase64());
        }

        private static String[] writeCredential(Path directory, String name, byte[] secret,
                DeviceCertificateIssuer ca, RelayKeyPair keys) throws IOException {
            Path key = Files.writeString(directory.resolve(name + ".key"), Base64.getEncoder().encodeToString(secret));
            Path certificate = Files.writeString(directory.resolve(name + ".pem"),
                    DeviceCertificateIssuer.toPem(ca.issue(name, keys.publicKey())));
            return new String[] {key.toString(), certificate.toString()};
        }

        void assertBothReceived() {
            assertEquals(0, aliceProcess.awaitExit(Duration.ofSeconds(60)), aliceProcess.output());
            assertEquals(0, bobProcess.awaitExit(Duration.ofSeconds(60)), bobProcess.output());
            assertTrue(RECEIVED.matcher(aliceProcess.output()).find(), aliceProcess.output());
            assertTrue(RECEIVED.matcher(bobProcess.output()).find(), bobProcess.output());
        }
    }
}
