package io.meshwork.node.filter;

import io.meshwork.protocol.api.SecurityPolicy;
import java.nio.ByteBuffer;

/**
 * Enforces a device's inbound security policy on IP packets (see {@link SecurityPolicy} for the semantics): an
 * inbound packet is accepted when a rule allows it, when it is a reply on a flow this device initiated, or when
 * it is an ICMP error about such a flow; everything else, malformed packets included, is refused. Outbound
 * packets are never refused; they record their flow so its replies pass.
 *
 * <p>The rules are immutable; the connection tracker is shared, so a new filter for a changed policy built on
 * the old one's tracker keeps established flows alive. No allocation per packet: callers keep one
 * {@link PacketHeaders} per thread.
 */
public final class PacketFilter {

    private final SourceRules rules;
    private final ConnectionTracker tracker;

    private PacketFilter(SourceRules rules, ConnectionTracker tracker) {
        this.rules = rules;
        this.tracker = tracker;
    }

    /**
     * The filter to install for {@code policy}: null for an open policy (no group applies, nothing is filtered and
     * the data plane pays one null check), else one that keeps {@code previous}'s established flows (a fresh
     * tracker with default limits when there was none).
     *
     * @throws PolicyException when a rule has an unknown protocol, a bad port range or a bad prefix
     */
    public static PacketFilter forPolicy(SecurityPolicy policy, PacketFilter previous) throws PolicyException {
        if (policy == null || !policy.enforced()) {
            return null;
        }
        return of(policy, previous != null ? previous.tracker : ConnectionTracker.withDefaults());
    }

    /**
     * A filter that lets in only replies on flows this device initiated, keeping {@code previous}'s flows: what to
     * enforce when a policy arrives that cannot be enforced, failing closed.
     */
    public static PacketFilter repliesOnly(PacketFilter previous) {
        ConnectionTracker tracker = previous != null ? previous.tracker : ConnectionTracker.withDefaults();
        return new PacketFilter(SourceRules.none(), tracker);
    }

    /**
     * A filter enforcing {@code policy} with {@code tracker}'s established flows.
     *
     * @throws PolicyException when the policy is open (enforced by having no filter), or a rule has an unknown
     *                         protocol, a bad port range or a bad prefix
     */
    public static PacketFilter of(SecurityPolicy policy, ConnectionTracker tracker) throws PolicyException {
        if (policy == null || !policy.enforced()) {
            throw new PolicyException("an open policy is enforced by installing no filter");
        }
        return new PacketFilter(SourceRules.compile(policy.rules()), tracker);
    }

    public ConnectionTracker tracker() {
        return tracker;
    }

    /** Decides about a packet arriving from a peer, between its position and limit. */
    public Verdict inbound(ByteBuffer packet, PacketHeaders headers) {
        if (!headers.parse(packet)) {
            return Verdict.MALFORMED;
        }
        if (rules.allows(headers)) {
            return Verdict.ALLOWED_BY_RULE;
        }
        if (tracker.isReply(headers)) {
            return Verdict.ESTABLISHED;
        }
        if (headers.isIcmpError() && relatesToOwnFlow(packet, headers)) {
            return Verdict.RELATED;
        }
        return Verdict.DENIED;
    }

    /** Records the flow of a packet this device sends; malformed packets record nothing. */
    public void outbound(ByteBuffer packet, PacketHeaders headers) {
        if (headers.parse(packet)) {
            tracker.recordOutbound(headers);
        }
    }

    /**
     * An ICMP error quotes the start of the packet that caused it (RFC 792; RFC 4443 §3): it is related when that
     * packet was sent by this device (its source is the error's destination) on a flow it initiated.
     */
    private boolean relatesToOwnFlow(ByteBuffer packet, PacketHeaders error) {
        int quotedStart = packet.position() + error.transportOffset + 8;
        PacketHeaders quoted = error.parseQuoted(packet, quotedStart, packet.limit());
        return quoted != null && quoted.version == error.version
                && quoted.sourceHigh == error.destinationHigh && quoted.sourceLow == error.destinationLow
                && tracker.isOwnOutbound(quoted);
    }
}
