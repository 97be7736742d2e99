package io.meshwork.relay.control;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigInteger;
import java.util.List;
import java.util.Set;

/**
 * What a relay needs from control: enrollment (which yields the CA to trust), health reports, the revoked
 * certificate serials, and the endpoints it observed for devices. {@link HttpControlPlane} speaks HTTP; a relay
 * without control (tests, labs) runs with a CA file and no instance of this.
 */
public interface ControlPlane {

    /** Enrolls with the admin-issued token; control answers with this relay's id and the CA certificate. */
    Enrollment register(Advertisement advertisement) throws ControlException;

    void reportHealth(String relayId, Health health) throws ControlException;

    Set<BigInteger> revokedSerials(String relayId) throws ControlException;

    void reportObservations(String relayId, List<Observation> observations) throws ControlException;

    /**
     * A node's relay leaves its organization's relay list (on {@code node down}). A relay enrolled with a token is
     * removed by the admin instead, so by default this does nothing.
     */
    default void withdraw() throws ControlException {}

    /**
     * Where this relay can be reached, as "host:port" strings, and when the TCP listener speaks TLS the hex SHA-256
     * of its leaf certificate for devices to pin (left out of the JSON when null, for controls that predate it).
     */
    record Advertisement(String udp, String tcp, List<String> stun,
            @JsonInclude(JsonInclude.Include.NON_NULL) String tlsSha256) {

        /** A relay without TLS. */
        public Advertisement(String udp, String tcp, List<String> stun) {
            this(udp, tcp, stun, null);
        }
    }

    record Enrollment(String relayId, String caCertificatePem, int heartbeatSeconds) {
    }

    record Health(int udpClients, int tcpClients, boolean healthy) {
    }

    /** A device's source address as this relay saw it (endpoint reflection, docs/architecture.md, "Control plane"). */
    record Observation(String deviceId, String publicKey, String transport, String address) {
    }
}
