package io.meshwork.node.relay;

import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.RelayKeyPair;
import java.nio.ByteBuffer;
import java.util.Objects;

/** What a node authenticates to a relay with: its WireGuard key pair and the device certificate control issued. */
public final class RelayCredential {

    private final RelayKeyPair keys;
    private final byte[] certificateDer;

    public RelayCredential(RelayKeyPair keys, byte[] certificateDer) {
        this.keys = Objects.requireNonNull(keys, "keys");
        if (certificateDer.length == 0 || certificateDer.length > RelayFrameCodec.MAX_CERTIFICATE_BYTES) {
            throw new IllegalArgumentException("certificate must have 1.." + RelayFrameCodec.MAX_CERTIFICATE_BYTES
                    + " bytes, has " + certificateDer.length);
        }
        this.certificateDer = certificateDer.clone();
    }

    public RelayKeyPair keys() {
        return keys;
    }

    public RelayKey publicKey() {
        return keys.publicKey();
    }

    ByteBuffer certificate() {
        return ByteBuffer.wrap(certificateDer).asReadOnlyBuffer();
    }
}
