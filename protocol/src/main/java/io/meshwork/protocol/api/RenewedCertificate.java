package io.meshwork.protocol.api;

/**
 * What a device gets when it renews its certificate ({@code POST /api/v1/devices/self/certificate}, docs/api.md
 * "Certificate renewal"): a new certificate for the same key, naming its organization, with a new serial. The one
 * it had is revoked with the relays after a grace period.
 *
 * @param certificate   PEM X.509 certificate for its WireGuard key, signed by the control CA
 * @param caCertificate PEM certificate of the control CA
 * @param serial        the new certificate's serial number, hex
 * @param notAfterMillis the end of its validity, milliseconds since the epoch
 */
public record RenewedCertificate(String certificate, String caCertificate, String serial, long notAfterMillis) {}
