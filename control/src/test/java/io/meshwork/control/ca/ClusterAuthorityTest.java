package io.meshwork.control.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The cluster's one CA; the test kit round-trips every command, event and state through CBOR. */
class ClusterAuthorityTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.parseString(
                    "pekko.actor.provider = local\n"
                            + "pekko.actor.serialization-bindings {\"io.meshwork.control.CborSerializable\" = jackson-cbor}"))
                    .withFallback(ConfigFactory.load()));

    private EventSourcedBehaviorTestKit<ClusterAuthority.Command, ClusterAuthority.Event, ClusterAuthority.State> entity;

    @BeforeEach
    void fresh() {
        entity = EventSourcedBehaviorTestKit.create(TEST_KIT.system(), ClusterAuthority.create(""));
    }

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private EventSourcedBehaviorTestKit.CommandResultWithReply<ClusterAuthority.Command, ClusterAuthority.Event,
            ClusterAuthority.State, ClusterAuthority.Reply> adopt(ClusterAuthority.Material candidate, String origin) {
        return entity.runCommand(replyTo -> new ClusterAuthority.Adopt(candidate, origin, 1000, replyTo));
    }

    @Test
    void theFirstCandidateIsAdoptedAndEveryLaterOneIsAnsweredWithIt() throws Exception {
        ClusterAuthority.Material first = ClusterAuthority.Material.of(CertificateAuthority.generate(), "");
        ClusterAuthority.Material second = ClusterAuthority.Material.of(CertificateAuthority.generate(), "");

        var adopted = adopt(first, "generated");
        assertTrue(adopted.reply().candidateAdopted());
        assertEquals(first, adopted.reply().adopted());
        assertEquals(new ClusterAuthority.AuthorityAdopted(first, "generated", 1000), adopted.event());

        var offered = adopt(second, "generated");
        assertFalse(offered.reply().candidateAdopted());
        assertEquals(first, offered.reply().adopted(), "a later member signs with the CA already adopted");
        assertTrue(offered.hasNoEvents());

        entity.restart();
        var afterRestart = adopt(second, "data-dir");
        assertEquals(first, afterRestart.reply().adopted(), "the adopted CA survives recovery from the journal");
        assertTrue(afterRestart.hasNoEvents());
        assertEquals(new ClusterAuthority.State(first, "generated", 1000), afterRestart.state());
    }

    @Test
    void theAdoptedMaterialSignsCertificatesThatVerifyWithTheAdoptedCertificate() throws Exception {
        CertificateAuthority original = CertificateAuthority.generate();
        ClusterAuthority.Material adopted = adopt(ClusterAuthority.Material.of(original, ""), "generated").reply()
                .adopted();
        CertificateAuthority restored = CertificateAuthority.fromPem(adopted.privateKeyPem(), adopted.certificatePem());
        byte[] wireGuardKey = new byte[32];
        wireGuardKey[5] = 7;
        X509Certificate device = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(restored.issueDeviceCertificate("d1", wireGuardKey).pem()
                        .getBytes(StandardCharsets.US_ASCII)));
        device.verify(original.certificate().getPublicKey());
        assertTrue(adopted.privateKeyPem().startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
    }

    @Test
    void anUnusableCandidateIsRefusedAndNothingIsAdopted() {
        CertificateAuthority one = CertificateAuthority.generate();
        CertificateAuthority other = CertificateAuthority.generate();
        ClusterAuthority.Material mismatched = new ClusterAuthority.Material(one.privateKeyPem(), other.certificatePem());
        for (ClusterAuthority.Material bad : new ClusterAuthority.Material[] {mismatched,
                new ClusterAuthority.Material("not pem", one.certificatePem()),
                new ClusterAuthority.Material(one.privateKeyPem(), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                null}) {
            var refused = adopt(bad, "generated");
            assertNull(refused.reply().adopted());
            assertNotNull(refused.reply().error());
            assertTrue(refused.hasNoEvents());
        }
        assertEquals(ClusterAuthority.Material.of(one, ""), adopt(ClusterAuthority.Material.of(one, ""), "generated").reply()
                .adopted(), "a valid candidate is still adopted after refusals");
    }

    @Test
    void fromPemRefusesAKeyOfAnotherCertificate() {
        CertificateAuthority one = CertificateAuthority.generate();
        CertificateAuthority other = CertificateAuthority.generate();
        assertThrows(java.io.IOException.class, () -> CertificateAuthority.fromPem(one.privateKeyPem(),
                other.certificatePem()));
        byte[] key = new byte[32];
        String devicePem = one.issueDeviceCertificate("d", key).pem();
        assertThrows(java.io.IOException.class, () -> CertificateAuthority.fromPem(one.privateKeyPem(), devicePem),
                "a device certificate is no CA");
    }

    @Test
    void withAPassphraseOnlyCandidatesEncryptedWithItAreAdoptedAndTheJournalHoldsNoPlainKey() throws Exception {
        var guarded = EventSourcedBehaviorTestKit.<ClusterAuthority.Command, ClusterAuthority.Event,
                ClusterAuthority.State>create(TEST_KIT.system(), ClusterAuthority.create("s3cret"));
        CertificateAuthority ca = CertificateAuthority.generate();
        for (ClusterAuthority.Material refused : List.of(ClusterAuthority.Material.of(ca, ""),
                ClusterAuthority.Material.of(ca, "other"))) {
            var reply = guarded.<ClusterAuthority.Reply>runCommand(replyTo ->
                    new ClusterAuthority.Adopt(refused, "generated", 1, replyTo));
            assertNull(reply.reply().adopted(), reply.reply().toString());
            assertTrue(reply.hasNoEvents());
        }
        ClusterAuthority.Material encrypted = ClusterAuthority.Material.of(ca, "s3cret");
        var adopted = guarded.<ClusterAuthority.Reply>runCommand(replyTo ->
                new ClusterAuthority.Adopt(encrypted, "generated", 1, replyTo));
        assertTrue(adopted.reply().candidateAdopted());
        String storedKey = ((ClusterAuthority.AuthorityAdopted) adopted.event()).material().privateKeyPem();
        assertTrue(storedKey.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), storedKey);
        assertFalse(storedKey.contains(ca.privateKeyPem().lines().skip(1).findFirst().orElseThrow()));
        assertEquals(ca.certificate(), CertificateAuthority.fromPem(storedKey, encrypted.certificatePem(), "s3cret")
                .certificate());
    }

    @Test
    void anEncryptedKeyOpensOnlyWithItsPassphrase() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate();
        String encrypted = ca.privateKeyPem("correct horse");
        assertTrue(CertificateAuthority.isEncrypted(encrypted));
        byte[] wireGuardKey = new byte[32];
        X509Certificate device = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(CertificateAuthority.fromPem(encrypted, ca.certificatePem(), "correct horse")
                        .issueDeviceCertificate("d", wireGuardKey).pem().getBytes(StandardCharsets.US_ASCII)));
        device.verify(ca.certificate().getPublicKey());
        assertThrows(java.io.IOException.class, () -> CertificateAuthority.fromPem(encrypted, ca.certificatePem(),
                "battery staple"));
        assertThrows(java.io.IOException.class, () -> CertificateAuthority.fromPem(encrypted, ca.certificatePem()));
    }

    @Test
    void aKeyAdoptedUnencryptedIsStoredEncryptedWhenAMemberWithAPassphraseAsks() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate();
        ClusterAuthority.Material plain = ClusterAuthority.Material.of(ca, "");
        assertTrue(adopt(plain, "generated").reply().candidateAdopted());
        ClusterAuthority.Material encrypted = ClusterAuthority.Material.of(ca, "s3cret");

        // A member without a passphrase keeps the CA: it cannot check the encrypted key, so it refuses.
        var refused = entity.<ClusterAuthority.Reply>runCommand(replyTo ->
                new ClusterAuthority.EncryptKey(encrypted, 2000, replyTo));
        assertNull(refused.reply().adopted());
        assertTrue(refused.hasNoEvents());

        // The same journal, kept by a member with the passphrase.
        var guarded = EventSourcedBehaviorTestKit.<ClusterAuthority.Command, ClusterAuthority.Event,
                ClusterAuthority.State>create(TEST_KIT.system(), ClusterAuthority.create("s3cret"));
        guarded.initialize(new ClusterAuthority.AuthorityAdopted(plain, "generated", 1000));
        CertificateAuthority other = CertificateAuthority.generate();
        for (ClusterAuthority.Material bad : List.of(plain, ClusterAuthority.Material.of(ca, "other"),
                ClusterAuthority.Material.of(other, "s3cret"),
                new ClusterAuthority.Material(other.privateKeyPem("s3cret"), ca.certificatePem()))) {
            var reply = guarded.<ClusterAuthority.Reply>runCommand(replyTo ->
                    new ClusterAuthority.EncryptKey(bad, 2000, replyTo));
            assertNull(reply.reply().adopted(), reply.reply().toString());
            assertTrue(reply.hasNoEvents());
        }
        var stored = guarded.<ClusterAuthority.Reply>runCommand(replyTo ->
                new ClusterAuthority.EncryptKey(encrypted, 2000, replyTo));
        assertEquals(new ClusterAuthority.AuthorityKeyEncrypted(encrypted, 2000), stored.event());
        assertEquals(encrypted, stored.reply().adopted());
        assertEquals(new ClusterAuthority.State(encrypted, "generated", 1000), stored.state(),
                "origin and adoption time stay");

        guarded.restart();
        var again = guarded.<ClusterAuthority.Reply>runCommand(replyTo ->
                new ClusterAuthority.EncryptKey(ClusterAuthority.Material.of(ca, "s3cret"), 3000, replyTo));
        assertTrue(again.hasNoEvents(), "encrypted once, never again");
        assertEquals(encrypted, again.reply().adopted(), "recovery replays the encrypted key");
        assertEquals(ca.certificate(), CertificateAuthority.fromPem(again.reply().adopted().privateKeyPem(),
                ca.certificatePem(), "s3cret").certificate());

        // docs/operations.md: the earlier event with the plain key may be purged from the journal; the encrypted
        // one alone recovers the CA.
        var purged = EventSourcedBehaviorTestKit.<ClusterAuthority.Command, ClusterAuthority.Event,
                ClusterAuthority.State>create(TEST_KIT.system(), ClusterAuthority.create("s3cret"));
        purged.initialize(new ClusterAuthority.AuthorityKeyEncrypted(encrypted, 2000));
        var recovered = adopt(purged, ClusterAuthority.Material.of(CertificateAuthority.generate(), "s3cret"));
        assertEquals(encrypted, recovered.reply().adopted());
        assertFalse(recovered.reply().candidateAdopted());
        assertTrue(recovered.hasNoEvents());
    }

    private static EventSourcedBehaviorTestKit.CommandResultWithReply<ClusterAuthority.Command, ClusterAuthority.Event,
            ClusterAuthority.State, ClusterAuthority.Reply> adopt(EventSourcedBehaviorTestKit<ClusterAuthority.Command,
            ClusterAuthority.Event, ClusterAuthority.State> entity, ClusterAuthority.Material candidate) {
        return entity.runCommand(replyTo -> new ClusterAuthority.Adopt(candidate, "generated", 3000, replyTo));
    }
}
