package io.meshwork.relay.auth;

import io.meshwork.protocol.relay.RelayKey;
import java.math.BigInteger;
import java.time.Instant;

/**
 * A device whose certificate checked out: who it is, the organization it belongs to ("" for a certificate that names
 * none, see {@link io.meshwork.protocol.relay.DeviceCertificateProfile}), its key, and what to re-check while it
 * stays connected.
 */
public record VerifiedDevice(String deviceId, String organizationId, RelayKey key, BigInteger serial,
        Instant notAfter) {

    /** Whether the relay may forward between this device and {@code other}: only within one organization. */
    public boolean sameOrganization(VerifiedDevice other) {
        return organizationId.equals(other.organizationId);
    }
}
