package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.dataplane.Peer;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayCredential;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.wireguard.Key;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class RelayConnectionTest {

    private static final String PIN = "ab".repeat(32);

    @Test
    void udpTcpAndPinGiveBothAddressesWithTls() throws Exception {
        RelayAddress address = RelayConnection.address(
                new RelayInfo("r1", "192.0.2.1:3340", "[2001:db8::1]:443", PIN));
        assertEquals(Optional.of(new InetSocketAddress("192.0.2.1", 3340)), address.udp());
        assertEquals(Optional.of(new InetSocketAddress("2001:db8::1", 443)), address.tcp());
        assertTrue(address.tls().isPresent(), "a pin means TLS on TCP");
    }

    @Test
    void withoutAPinTcpIsPlainAndAMissingPortIsTheRelayDefault() throws Exception {
        RelayAddress udpOnly = RelayConnection.address(new RelayInfo("r1", "192.0.2.1", null));
        assertEquals(Optional.of(new InetSocketAddress("192.0.2.1", RelayConnection.DEFAULT_PORT)), udpOnly.udp());
        assertEquals(Optional.empty(), udpOnly.tcp());
        assertEquals(Optional.empty(), udpOnly.tls());

        RelayAddress tcpOnly = RelayConnection.address(new RelayInfo("r1", null, "192.0.2.1:443"));
        assertEquals(Optional.empty(), tcpOnly.udp());
        assertEquals(Optional.of(new InetSocketAddress("192.0.2.1", 443)), tcpOnly.tcp());
        assertEquals(Optional.empty(), tcpOnly.tls());
    }

    @Test
    void malformedAddressesAreRefusedWithAMessageNamingThem() {
        InvalidAddressException badPort = assertThrows(InvalidAddressException.class,
                () -> RelayConnection.address(new RelayInfo("r1", "192.0.2.1:33x0", "192.0.2.1:443")));
        assertTrue(badPort.getMessage().startsWith("UDP address from control: "), badPort.getMessage());
        assertTrue(badPort.getMessage().contains("192.0.2.1:33x0"), badPort.getMessage());

        InvalidAddressException badTcp = assertThrows(InvalidAddressException.class,
                () -> RelayConnection.address(new RelayInfo("r1", null, "2001:db8::1:443")));
        assertTrue(badTcp.getMessage().startsWith("TCP address from control: "), badTcp.getMessage());

        InvalidAddressException none = assertThrows(InvalidAddressException.class,
                () -> RelayConnection.address(new RelayInfo("r1", null, null)));
        assertEquals("control gave it neither a UDP nor a TCP address", none.getMessage());

        assertThrows(IllegalArgumentException.class,
                () -> RelayConnection.address(new RelayInfo("r1", "192.0.2.1:3340", null, "not hex")));
    }

    @Test
    void aRelayThatCannotBeUsedLeavesTheNodeWithoutOneInsteadOfThrowing() throws Exception {
        WireGuardDevice device = IdleDevice.create();
        try {
            io.meshwork.node.relay.RelayDatagramRouter datagrams =
                    new io.meshwork.node.relay.RelayDatagramRouter(device.transport());
            RelayConnection.DeviceListener listener = new RelayConnection.DeviceListener(device, payload -> {});
            for (RelayInfo bad : List.of(new RelayInfo("r1", "192.0.2.1:99999", null),
                    new RelayInfo("r1", null, null), new RelayInfo("r1", "192.0.2.1:3340", null, "zz"))) {
                NodeIdentity identity = identity(device, List.of(bad), certificatePem());
                assertEquals(Optional.empty(), RelayConnection.connector(() -> identity, datagrams)
                        .connect(bad, listener, false), bad.toString());
            }
            NodeIdentity badCertificate = identity(device, List.of(new RelayInfo("r1", "192.0.2.1:3340", null)),
                    "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
            assertEquals(Optional.empty(), RelayConnection.connector(() -> badCertificate, datagrams)
                    .connect(new RelayInfo("r1", "192.0.2.1:3340", null), listener, false));
        } finally {
            device.close();
        }
    }

    @Test
    void theCredentialIsTheDeviceKeyWithTheCertificateFromControl() throws Exception {
        WireGuardDevice device = IdleDevice.create();
        try {
            RelayCredential credential = RelayConnection.credential(identity(device, List.of(), certificatePem()));
            assertEquals(RelayKey.of(device.publicKey().toBytes()), credential.publicKey());
            assertThrows(CertificateException.class, () -> RelayConnection.credential(identity(device, List.of(),
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")));
        } finally {
            device.close();
        }
    }

    @Test
    void onConnectHandshakesGoOutAgainToRelayedPeersOnly() {
        WireGuardDevice device = IdleDevice.create();
        try {
            List<Key> sentThroughRelay = new ArrayList<>();
            device.setRelayPath((peer, datagram) -> sentThroughRelay.add(peer));
            Key relayedKey = Key.generatePrivate().publicKey();
            Peer relayed = device.addPeer(relayedKey);
            device.useRelay(relayed, true);
            Peer direct = device.addPeer(Key.generatePrivate().publicKey());
            device.setEndpoint(direct, new InetSocketAddress("192.0.2.9", 51820));
            RelayConnection.DeviceListener listener = new RelayConnection.DeviceListener(device, payload -> {});

            listener.onStatus(status(RelayStatus.State.BACKING_OFF));
            assertEquals(List.of(), sentThroughRelay, "nothing goes out while the relay is not connected");

            listener.onStatus(status(RelayStatus.State.CONNECTED));
            assertEquals(List.of(relayedKey), sentThroughRelay);
        } finally {
            device.close();
        }
    }

    @Test
    void discoGoesToTheProbeRouter() {
        WireGuardDevice device = IdleDevice.create();
        try {
            List<ByteBuffer> disco = new ArrayList<>();
            ByteBuffer payload = ByteBuffer.wrap(new byte[] {1, 2, 3});
            new RelayConnection.DeviceListener(device, disco::add)
                    .onDisco(RelayKey.of(Key.generatePrivate().publicKey().toBytes()), payload);
            assertEquals(1, disco.size());
            assertSame(payload, disco.get(0));
        } finally {
            device.close();
        }
    }

    private static RelayStatus status(RelayStatus.State state) {
        return new RelayStatus(state, Optional.of(Transport.UDP), Optional.empty(), Optional.empty(), state.name());
    }

    private static NodeIdentity identity(WireGuardDevice device, List<RelayInfo> relays, String certificatePem) {
        return new NodeIdentity("http://control.invalid", "node-a", device.privateKey().toBase64(),
                new RegisterResponse("d1", "o1", "token", List.of("100.64.0.2"), certificatePem, null, relays,
                        List.of(), null, "active"));
    }

    private static String certificatePem() throws Exception {
        var keys = KeyPairGenerator.getInstance("EC").generateKeyPair();
        X500Name subject = new X500Name("CN=d1");
        Instant now = Instant.now();
        var certificate = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(subject,
                BigInteger.ONE, Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), subject,
                keys.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        StringWriter pem = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(pem)) {
            writer.writeObject(certificate);
        }
        return pem.toString();
    }
}
