package io.meshwork.relay.auth;

import io.meshwork.protocol.relay.RelayKey;
import java.math.BigInteger;
import java.time.Instant;

/** A device whose certificate checked out: who it is, its key, and what to re-check while it stays connected. */
public record VerifiedDevice(String deviceId, RelayKey key, BigInteger serial, Instant notAfter) {
}
