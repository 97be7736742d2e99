package io.meshwork.protocol.api;

import java.util.List;

/**
 * The inbound traffic policy of one device, resolved by control from the organization's security groups and sent
 * on the peer-map stream.
 *
 * <p>Semantics: when no security group applies to the device, {@code enforced} is false and the device accepts
 * everything from its peers. When at least one applies, the device accepts an inbound packet only when some rule
 * allows it, or when it belongs to a flow the device itself initiated (replies, and ICMP errors about that flow).
 * Outbound traffic is never filtered.
 *
 * @param enforced whether any security group applies to the device
 * @param groups   names of the groups that apply, for display
 * @param rules    the allow rules of those groups, with group references expanded to overlay prefixes
 */
public record SecurityPolicy(boolean enforced, List<String> groups, List<PolicyRule> rules) {

    /** No group applies: everything is let in. */
    public static final SecurityPolicy OPEN = new SecurityPolicy(false, List.of(), List.of());
}
