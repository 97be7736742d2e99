package io.meshwork.protocol.policy;

import java.util.List;

/**
 * A security group as {@link PolicyIndex} reads it: the devices it applies to and its inbound allow rules. Both
 * {@code appliesTo} and a rule's {@code peers} hold {@link References references}: {@code "*"}, a device id,
 * {@code tag:NAME}, {@code group:NAME} or a CIDR (docs/api.md, "Security groups").
 */
public record PolicyGroup(String name, List<String> appliesTo, List<Rule> rules) {

    public PolicyGroup {
        appliesTo = appliesTo == null ? List.of(References.ALL) : List.copyOf(appliesTo);
        rules = rules == null ? List.of() : List.copyOf(rules);
    }

    /**
     * @param protocol "tcp", "udp", "icmp" or "any"
     * @param ports    destination ports: "443", "8000-8100", or null or "*" for every port
     * @param peers    references to the sources the rule lets in
     */
    public record Rule(String protocol, String ports, List<String> peers) {
        public Rule {
            peers = peers == null ? List.of() : List.copyOf(peers);
        }
    }
}
