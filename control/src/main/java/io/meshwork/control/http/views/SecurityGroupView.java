package io.meshwork.control.http.views;

import io.meshwork.control.organization.Organization;
import java.util.List;

/** A security group as stored; a rule's {@code ports} is {@code null} when it was not given (every port). */
public record SecurityGroupView(String name, List<String> appliesTo, List<RuleView> rules) {

    public record RuleView(String protocol, String ports, List<String> peers) {}

    public static SecurityGroupView of(Organization.SecurityGroup group) {
        return new SecurityGroupView(group.name(), group.appliesTo(), group.rules() == null ? null
                : group.rules().stream().map(rule -> new RuleView(rule.protocol(), rule.ports(), rule.peers()))
                        .toList());
    }
}
