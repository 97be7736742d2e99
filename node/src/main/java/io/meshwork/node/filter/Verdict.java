package io.meshwork.node.filter;

/** What the filter decided about an inbound packet, and why. */
public enum Verdict {
    /** A rule of the policy allows it. */
    ALLOWED_BY_RULE(true),
    /** It belongs to a flow this device initiated. */
    ESTABLISHED(true),
    /** An ICMP error about a flow this device initiated. */
    RELATED(true),
    /** No rule allows it and it belongs to no flow this device initiated. */
    DENIED(false),
    /** Not a well-formed IPv4 or IPv6 packet, or too short for the headers the decision needs. */
    MALFORMED(false);

    private final boolean accepted;

    Verdict(boolean accepted) {
        this.accepted = accepted;
    }

    public boolean accepted() {
        return accepted;
    }
}
