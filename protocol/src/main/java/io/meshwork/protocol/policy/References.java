package io.meshwork.protocol.policy;

import io.meshwork.protocol.net.Prefix;
import java.util.regex.Pattern;

/**
 * The references a security group names devices by, in {@code appliesTo} and in a rule's {@code peers}: every
 * device ({@value #ALL}), one device by its id, the devices with a tag ({@code tag:NAME}), the devices another group
 * applies to ({@code group:NAME}), or the devices whose overlay address is inside a CIDR. Never a hostname: a
 * device chooses its own hostname, so naming it would let any device claim a group's membership.
 */
public final class References {

    public static final String ALL = "*";
    public static final String TAG = "tag:";
    public static final String GROUP = "group:";

    /** A tag: 1 to 63 lowercase letters, digits or '-'. */
    private static final Pattern TAG_NAME = Pattern.compile("[a-z0-9-]{1,63}");

    /** What a reference names. */
    public enum Kind { ALL, DEVICE, TAG, GROUP, CIDR }

    private References() {}

    public static boolean isTag(String text) {
        return text != null && TAG_NAME.matcher(text).matches();
    }

    /** The kind of {@code reference}: anything that is not "*", prefixed or a CIDR is a device id. */
    public static Kind kind(String reference) {
        if (reference.equals(ALL)) {
            return Kind.ALL;
        }
        if (reference.startsWith(TAG)) {
            return Kind.TAG;
        }
        if (reference.startsWith(GROUP)) {
            return Kind.GROUP;
        }
        return reference.indexOf('/') >= 0 ? Kind.CIDR : Kind.DEVICE;
    }

    /** The tag or group name of a {@code tag:} or {@code group:} reference. */
    public static String name(String reference) {
        return reference.substring(reference.indexOf(':') + 1);
    }

    /** The CIDR of a CIDR reference, parsed; null when it is not one. */
    public static Prefix cidr(String reference) {
        try {
            return Prefix.parse(reference);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
