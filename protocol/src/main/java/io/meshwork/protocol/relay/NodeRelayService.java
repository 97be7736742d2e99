package io.meshwork.protocol.relay;

import io.meshwork.protocol.tls.CertificatePin;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The relay a node runs for its own organization ({@code meshwork node up --relay}; docs/architecture.md, "Relay
 * scopes"). The node agent finds it with {@link java.util.ServiceLoader}: the relay module provides it, so the node
 * module needs no dependency on the relay's (the relay's tests depend on the node's), and a node built without the
 * relay says so instead of relaying.
 */
public interface NodeRelayService {

    /** The port a node's relay listens on without {@code --relay-port}: a relay's own default. */
    int DEFAULT_PORT = 3340;

    /**
     * What the node hands its relay.
     *
     * @param control        control's base URL
     * @param controlPin     the pin of control's certificate, or null to check an https URL against the JDK's store
     * @param deviceId       this node's device id
     * @param organizationId the organization the relay serves: the only one whose devices it accepts
     * @param deviceToken    this node's device token, with which the relay enrolls and reports to control
     * @param name           the name the relay is listed under (this node's hostname)
     * @param port           the UDP and TCP port it listens on, on every address
     * @param publicAddress  the address it advertises now; empty while the node does not know it (asked again)
     */
    record Settings(URI control, CertificatePin controlPin, String deviceId, String organizationId,
            String deviceToken, String name, int port, Supplier<Optional<InetAddress>> publicAddress) {}

    /**
     * The relay as {@code meshwork status} shows it.
     *
     * @param state      {@code relaying}, {@code not allowed} (control refused: the device may not relay),
     *                   {@code starting} (enrolling, or waiting for its public address) or {@code failed}
     * @param address    the address it is advertised at (ip:port), or null
     * @param udpClients devices connected over UDP
     * @param tcpClients devices connected over TCP
     * @param detail     why it is in that state, in words
     */
    record Status(String state, String address, int udpClients, int tcpClients, String detail) {}

    /** A running relay; closing it withdraws it from control's list and stops it. */
    interface Running extends AutoCloseable {
        Status status();

        @Override
        void close();
    }

    /** Starts the relay in the background: it enrolls, listens and reports until closed. */
    Running start(Settings settings) throws IOException;
}
