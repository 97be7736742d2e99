package io.meshwork.tests.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayClient;
import io.meshwork.node.relay.RelayClientConfig;
import io.meshwork.node.relay.RelayCredential;
import io.meshwork.node.relay.RelayStatus;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.relay.auth.CredentialVerdict;
import io.meshwork.relay.auth.DeviceCredentialVerifier;
import io.meshwork.relay.auth.RevocationList;
import io.meshwork.relay.auth.TrustAnchors;
import io.meshwork.relay.auth.VerifiedDevice;
import io.meshwork.relay.metrics.RelayMetrics;
import io.meshwork.relay.server.RelayConfig;
import io.meshwork.relay.server.RelayServer;
import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Certificates issued by control's CA are accepted by the relay, checked locally against control's CA PEM, and
 * name the organization the relay scopes forwarding to.
 */
class ControlCredentialInteropTest {

    @Test
    void relayAcceptsADeviceEnrolledByControl() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate();
        RelayKeyPair keys = RelayKeyPair.generate(new SecureRandom());
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(ca.issueDeviceCertificate("o0123456789ab", "device-7",
                        keys.publicKey().bytes(), CertificateAuthority.newSerialHex()).pem()
                        .getBytes(StandardCharsets.US_ASCII)));
        TrustAnchors anchors = TrustAnchors.fromPem(ca.certificatePem());

        CredentialVerdict verdict = new DeviceCredentialVerifier(anchors, new RevocationList())
                .verify(ByteBuffer.wrap(certificate.getEncoded()), keys.publicKey(), Instant.now());
        VerifiedDevice device = assertInstanceOf(CredentialVerdict.Accepted.class, verdict).device();
        assertEquals("device-7", device.deviceId());
        assertEquals("o0123456789ab", device.organizationId(), "the relay reads the organization control wrote");

        InetAddress loopback = InetAddress.getLoopbackAddress();
        RelayConfig config = RelayConfig.builder(anchors).tcp(new InetSocketAddress(loopback, 0)).build();
        try (RelayServer relay = RelayServer.start(config, new RelayMetrics());
                RelayClient client = RelayClient.start(RelayAddress.tcpOnly(relay.tcpAddress().orElseThrow()),
                        new RelayCredential(keys, certificate.getEncoded()), null, (source, payload) -> { },
                        RelayClientConfig.defaults())) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!client.status().connected() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            RelayStatus status = client.status();
            assertTrue(status.connected(), status.toString());
        }
    }
}
