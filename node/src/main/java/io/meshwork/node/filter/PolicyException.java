package io.meshwork.node.filter;

/** A security policy from control that cannot be enforced as given: a bad prefix, protocol or port range. */
public final class PolicyException extends Exception {

    public PolicyException(String message) {
        super(message);
    }
}
