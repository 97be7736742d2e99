package io.meshwork.protocol.api;

/**
 * A relay devices may use: its name and its UDP and TCP addresses ("host:port"; either may be null). When
 * {@code tlsSha256} is set (lowercase hex SHA-256 of the DER of the relay's TLS leaf certificate), the TCP
 * listener speaks TLS and devices trust exactly that certificate; null means plain TCP. {@code region} is where
 * the relay runs, as its operator named it ("eu-west", "home"), or null. {@code healthy} is true for an enrolled
 * relay that reported itself healthy within its last 3 heartbeats (control lists no other enrolled relay), and
 * null when control does not follow the relay's health (a relay from its configuration) or predates the field:
 * devices treat null as usable.
 */
public record RelayInfo(String name, String udp, String tcp, String tlsSha256, String region, Boolean healthy) {

    public RelayInfo(String name, String udp, String tcp, String tlsSha256, String region) {
        this(name, udp, tcp, tlsSha256, region, null);
    }

    public RelayInfo(String name, String udp, String tcp, String tlsSha256) {
        this(name, udp, tcp, tlsSha256, null, null);
    }

    public RelayInfo(String name, String udp, String tcp) {
        this(name, udp, tcp, null, null, null);
    }
}
