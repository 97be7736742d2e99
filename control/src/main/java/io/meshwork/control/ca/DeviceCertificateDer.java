package io.meshwork.control.ca;

import io.meshwork.protocol.relay.DeviceCertificateProfile;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;

/**
 * A device certificate (the profile of {@link CertificateAuthority}) written straight as DER: the certificate's
 * structure is fixed and only the serial, validity, device id, WireGuard key and organization vary, so it is
 * assembled from those in one pass rather than through an ASN.1 object tree. The bytes are exactly those
 * BouncyCastle's {@code X509v3CertificateBuilder} writes for the same fields ({@code CertificateAuthorityTest}
 * compares them); the signature is the CA's (SHA256withECDSA) over the {@link #tbs} bytes.
 */
final class DeviceCertificateDer {

    private static final byte SEQUENCE = 0x30;
    private static final byte SET = 0x31;
    private static final byte INTEGER = 0x02;
    private static final byte BIT_STRING = 0x03;
    private static final byte OCTET_STRING = 0x04;
    private static final byte UTF8_STRING = 0x0c;
    private static final byte UTC_TIME = 0x17;
    private static final byte GENERALIZED_TIME = 0x18;
    /** [6] IMPLICIT IA5String: a GeneralName's uniformResourceIdentifier. */
    private static final byte URI = (byte) 0x86;

    /** [0] EXPLICIT INTEGER 2: version 3. */
    private static final byte[] VERSION_3 = {(byte) 0xa0, 0x03, 0x02, 0x01, 0x02};
    /** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters. */
    static final byte[] ECDSA_WITH_SHA256 = {0x30, 0x0a, 0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d,
            0x04, 0x03, 0x02};
    /** OID 2.5.4.3, commonName. */
    private static final byte[] COMMON_NAME = {0x06, 0x03, 0x55, 0x04, 0x03};
    /** AlgorithmIdentifier id-X25519 (1.3.101.110, RFC 8410). */
    private static final byte[] X25519 = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e};
    /** basicConstraints (2.5.29.19), critical, cA false (absent, as DER leaves a default out). */
    private static final byte[] BASIC_CONSTRAINTS_NOT_CA = {0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01,
            (byte) 0xff, 0x04, 0x02, 0x30, 0x00};
    /** keyUsage (2.5.29.15), critical, keyAgreement only. */
    private static final byte[] KEY_USAGE_KEY_AGREEMENT = {0x30, 0x0e, 0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01,
            (byte) 0xff, 0x04, 0x04, 0x03, 0x02, 0x03, 0x08};
    /** OID subjectAltName (2.5.29.17). */
    private static final byte[] SUBJECT_ALT_NAME = {0x06, 0x03, 0x55, 0x1d, 0x11};
    private static final Instant UTC_TIME_ENDS = Instant.parse("2050-01-01T00:00:00Z");

    private DeviceCertificateDer() {}

    /**
     * The TBSCertificate: {@code issuer} is the CA's subject name as DER, {@code organizationId} null for a
     * certificate that names none.
     */
    static byte[] tbs(byte[] issuer, BigInteger serial, Instant notBefore, Instant notAfter, String deviceId,
            byte[] wireGuardPublicKey, String organizationId) {
        byte[] subject = tlv(SEQUENCE, tlv(SET, tlv(SEQUENCE, COMMON_NAME,
                tlv(UTF8_STRING, deviceId.getBytes(StandardCharsets.UTF_8)))));
        byte[] subjectKey = tlv(SEQUENCE, X25519, bitString(wireGuardPublicKey));
        byte[] keyUri = tlv(URI, (CertificateAuthority.WIREGUARD_KEY_URI_PREFIX
                + HexFormat.of().formatHex(wireGuardPublicKey)).getBytes(StandardCharsets.US_ASCII));
        byte[] names = organizationId == null ? tlv(SEQUENCE, keyUri) : tlv(SEQUENCE, keyUri, tlv(URI,
                DeviceCertificateProfile.organizationUri(organizationId).getBytes(StandardCharsets.US_ASCII)));
        byte[] extensions = tlv((byte) 0xa3, tlv(SEQUENCE, BASIC_CONSTRAINTS_NOT_CA, KEY_USAGE_KEY_AGREEMENT,
                tlv(SEQUENCE, SUBJECT_ALT_NAME, tlv(OCTET_STRING, names))));
        return tlv(SEQUENCE, VERSION_3, tlv(INTEGER, serial.toByteArray()), ECDSA_WITH_SHA256, issuer,
                tlv(SEQUENCE, time(notBefore), time(notAfter)), subject, subjectKey, extensions);
    }

    /** The Certificate: {@code tbs} with the algorithm and the DER signature over it. */
    static byte[] certificate(byte[] tbs, byte[] signature) {
        return tlv(SEQUENCE, tbs, ECDSA_WITH_SHA256, bitString(signature));
    }

    /**
     * An X.509 validity time as RFC 5280 §4.1.2.5 wants it: UTCTime before 2050, GeneralizedTime from then on, to
     * the second.
     */
    static byte[] time(Instant instant) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(instant.getEpochSecond(), 0, ZoneOffset.UTC);
        boolean utc = instant.isBefore(UTC_TIME_ENDS);
        byte[] text = new byte[utc ? 13 : 15];
        int at = 0;
        if (utc) {
            at = digits(text, at, t.getYear() % 100, 2);
        } else {
            at = digits(text, at, t.getYear(), 4);
        }
        at = digits(text, at, t.getMonthValue(), 2);
        at = digits(text, at, t.getDayOfMonth(), 2);
        at = digits(text, at, t.getHour(), 2);
        at = digits(text, at, t.getMinute(), 2);
        at = digits(text, at, t.getSecond(), 2);
        text[at] = 'Z';
        return tlv(utc ? UTC_TIME : GENERALIZED_TIME, text);
    }

    private static int digits(byte[] into, int at, int value, int count) {
        for (int i = count - 1; i >= 0; i--) {
            into[at + i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return at + count;
    }

    /** A BIT STRING of whole bytes (no unused bits). */
    private static byte[] bitString(byte[] bytes) {
        byte[] content = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, content, 1, bytes.length);
        return tlv(BIT_STRING, content);
    }

    /** Tag, definite length, then the parts one after the other. */
    private static byte[] tlv(byte tag, byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(length + 4);
        out.write(tag);
        if (length < 0x80) {
            out.write(length);
        } else if (length < 0x100) {
            out.write(0x81);
            out.write(length);
        } else if (length < 0x10000) {
            out.write(0x82);
            out.write(length >> 8);
            out.write(length);
        } else {
            throw new IllegalArgumentException("a device certificate part of " + length + " bytes");
        }
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
