package io.meshwork.control.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.control.tls.ClusterCredentials;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code meshwork control cluster-certs}: the files it writes (modes, layout), that every member certificate chains
 * to the CA it wrote, and that a second run reuses the CA and adds only what is missing.
 */
class ClusterCertsCommandTest {

    record Run(int exit, String out, String err) {}

    private static Run clusterCerts(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine line = new CommandLine(new ClusterCertsCommand());
        line.setOut(new PrintWriter(out, true));
        line.setErr(new PrintWriter(err, true));
        int exit = line.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static X509Certificate certificate(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    @Test
    void writesOneCaAndAKeyAndCertificatePerMemberEveryFileOwnerOnlyAndEveryChainVerifies() throws Exception {
        Path out = Files.createTempDirectory("mwc-certs").resolve("cluster");
        Run run = clusterCerts("--out", out.toString(), "--members", "3");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("a new cluster CA"), run.out());

        assertEquals("rwx------", mode(out));
        try (Stream<Path> top = Files.list(out)) {
            assertEquals(Set.of("ca.crt", "ca.key", "member-1", "member-2", "member-3"),
                    Set.copyOf(top.map(path -> path.getFileName().toString()).toList()));
        }
        assertEquals("rw-------", mode(out.resolve("ca.key")));
        assertEquals("rw-------", mode(out.resolve("ca.crt")));
        X509Certificate ca = certificate(out.resolve("ca.crt"));
        assertTrue(ca.getBasicConstraints() >= 0, "the CA certificate is a CA's");

        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        PKIXParameters trust = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
        trust.setRevocationEnabled(false);
        for (int i = 1; i <= 3; i++) {
            Path member = out.resolve("member-" + i);
            assertEquals("rwx------", mode(member));
            try (Stream<Path> files = Files.list(member)) {
                assertEquals(Set.of("ca.crt", "tls.crt", "tls.key"),
                        Set.copyOf(files.map(path -> path.getFileName().toString()).toList()));
            }
            for (String file : List.of("ca.crt", "tls.crt", "tls.key")) {
                assertEquals("rw-------", mode(member.resolve(file)), member + "/" + file);
            }
            assertArrayEquals(Files.readAllBytes(out.resolve("ca.crt")), Files.readAllBytes(member.resolve("ca.crt")));
            X509Certificate leaf = certificate(member.resolve("tls.crt"));
            // The chain verifies with PKIX, as the TLS handshake checks it.
            CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(List.of(leaf)), trust);
            assertTrue(leaf.getPublicKey() instanceof RSAPublicKey, "Pekko's PEM loader reads RSA keys");
            assertTrue(leaf.getSubjectX500Principal().getName().contains(ClusterCredentials.CLUSTER_NAME));
            assertTrue(leaf.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")),
                    "server and client authentication");
            // The key belongs to the certificate, and the files are what a member loads.
            ClusterCredentials loaded = ClusterCredentials.load(member);
            assertEquals(leaf, loaded.memberCertificate());
        }
        assertNotEquals(certificate(out.resolve("member-1/tls.crt")).getPublicKey(),
                certificate(out.resolve("member-2/tls.crt")).getPublicKey(), "every member has a key of its own");
    }

    @Test
    void aSecondRunReusesTheCaAndAddsOnlyTheMissingMembers() throws Exception {
        Path out = Files.createTempDirectory("mwc-certs-again");
        assertEquals(0, clusterCerts("--out", out.toString(), "--members", "1").exit());
        byte[] firstKey = Files.readAllBytes(out.resolve("member-1/tls.key"));
        byte[] caCertificate = Files.readAllBytes(out.resolve("ca.crt"));

        Run more = clusterCerts("--out", out.toString(), "--members", "2");
        assertEquals(0, more.exit(), more.err());
        assertTrue(more.out().contains("reused the CA"), more.out());
        assertArrayEquals(firstKey, Files.readAllBytes(out.resolve("member-1/tls.key")), "member-1 is left as it was");
        assertArrayEquals(caCertificate, Files.readAllBytes(out.resolve("ca.crt")));
        certificate(out.resolve("member-2/tls.crt")).verify(certificate(out.resolve("ca.crt")).getPublicKey());

        // Everything there already: nothing is made, and the CA key is not needed.
        Files.delete(out.resolve("ca.key"));
        Run nothing = clusterCerts("--out", out.toString(), "--members", "2");
        assertEquals(0, nothing.exit(), nothing.err());
        assertTrue(nothing.out().contains("nothing made"), nothing.out());
        Run needsTheKey = clusterCerts("--out", out.toString(), "--members", "3");
        assertEquals(2, needsTheKey.exit());
        assertTrue(needsTheKey.err().contains("ca.key"), needsTheKey.err());
        assertFalse(Files.exists(out.resolve("member-3")));
    }

    @Test
    void aMemberCountOutOfRangeIsAUsageError() throws Exception {
        Path out = Files.createTempDirectory("mwc-certs-usage");
        for (String count : List.of("0", "-1", "101")) {
            Run run = clusterCerts("--out", out.toString(), "--members", count);
            assertEquals(2, run.exit(), count);
            assertTrue(run.err().contains("--members must be 1 to 100"), run.err());
        }
        assertEquals(2, clusterCerts("--out", out.toString()).exit(), "--members is required");
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(0, files.count(), "nothing written");
        }
    }

    @Test
    void credentialsThatDoNotFitTogetherAreRefusedSayingWhichFile() throws Exception {
        Path out = Files.createTempDirectory("mwc-certs-mixed");
        assertEquals(0, clusterCerts("--out", out.resolve("one").toString(), "--members", "2").exit());
        assertEquals(0, clusterCerts("--out", out.resolve("other").toString(), "--members", "1").exit());
        Path mixed = out.resolve("one/member-1");
        Files.copy(out.resolve("other/ca.crt"), mixed.resolve("ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ClusterCredentials.UnusableCredentialsException foreignCa = assertThrows(
                ClusterCredentials.UnusableCredentialsException.class, () -> ClusterCredentials.load(mixed));
        assertTrue(foreignCa.getMessage().contains("is not signed by the CA"), foreignCa.getMessage());

        Path swapped = out.resolve("one/member-2");
        Files.copy(out.resolve("other/member-1/tls.key"), swapped.resolve("tls.key"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ClusterCredentials.UnusableCredentialsException wrongKey = assertThrows(
                ClusterCredentials.UnusableCredentialsException.class, () -> ClusterCredentials.load(swapped));
        assertTrue(wrongKey.getMessage().contains("is not the key of"), wrongKey.getMessage());

        Files.delete(swapped.resolve("tls.crt"));
        ClusterCredentials.UnusableCredentialsException missing = assertThrows(
                ClusterCredentials.UnusableCredentialsException.class, () -> ClusterCredentials.load(swapped));
        assertTrue(missing.getMessage().contains("missing") && missing.getMessage().contains("tls.crt"),
                missing.getMessage());
    }
}
