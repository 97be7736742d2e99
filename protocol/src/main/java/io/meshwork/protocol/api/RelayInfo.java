package io.meshwork.protocol.api;

/**
 * A relay devices may use: its name and its UDP and TCP addresses ("host:port"; either may be null). When
 * {@code tlsSha256} is set (lowercase hex SHA-256 of the DER of the relay's TLS leaf certificate), the TCP
 * listener speaks TLS and devices trust exactly that certificate; null means plain TCP.
 */
public record RelayInfo(String name, String udp, String tcp, String tlsSha256) {

    public RelayInfo(String name, String udp, String tcp) {
        this(name, udp, tcp, null);
    }
}
