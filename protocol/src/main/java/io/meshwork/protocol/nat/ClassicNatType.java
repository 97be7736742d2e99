package io.meshwork.protocol.nat;

/** The RFC 3489 names people still use for NATs, derived from mapping and filtering behaviour. */
public enum ClassicNatType {
    OPEN("open"),
    FULL_CONE("full cone"),
    RESTRICTED_CONE("restricted cone"),
    PORT_RESTRICTED_CONE("port-restricted cone"),
    SYMMETRIC("symmetric"),
    BLOCKED("blocked"),
    UNKNOWN("unknown");

    private final String displayName;

    ClassicNatType(String displayName) {
        this.displayName = displayName;
    }

    /** The lower-case name used in reports and JSON. */
    public String displayName() {
        return displayName;
    }
}
