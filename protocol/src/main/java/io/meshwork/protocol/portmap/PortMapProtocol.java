package io.meshwork.protocol.portmap;

/**
 * The port-mapping protocols a gateway may speak, in the order a node asks them (docs/architecture.md, "Port
 * mapping"): PCP (RFC 6887), then NAT-PMP (RFC 6886), then UPnP IGD (WANIPConnection over SSDP and SOAP).
 */
public enum PortMapProtocol {
    PCP("pcp", "PCP"),
    NAT_PMP("nat-pmp", "NAT-PMP"),
    UPNP("upnp", "UPnP-IGD");

    private final String id;
    private final String displayName;

    PortMapProtocol(String id, String displayName) {
        this.id = id;
        this.displayName = displayName;
    }

    /** The name in JSON ({@code meshwork status --json}, {@code meshwork netcheck --json}). */
    public String id() {
        return id;
    }

    /** The name people know it by. */
    public String displayName() {
        return displayName;
    }
}
