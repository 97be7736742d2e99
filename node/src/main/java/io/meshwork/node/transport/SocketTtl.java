package io.meshwork.node.transport;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * The unicast IPv4 time to live of a socket ({@code IP_TTL}), which neither the JDK nor Netty's datagram channel
 * exposes (JNA direct mapping of setsockopt(2)). On an IPv6 socket it applies to its IPv4-mapped traffic.
 */
final class SocketTtl {

    static {
        Native.register(NativeLibrary.getInstance("c"));
    }

    private static final int IPPROTO_IP = 0;
    private static final int IP_TTL = 2;
    /** Setting -1 restores the system's default TTL. */
    static final int DEFAULT = -1;

    private SocketTtl() {}

    private static native int setsockopt(int fd, int level, int name, int[] value, int length)
            throws LastErrorException;

    /** Sets the TTL of what {@code fd} sends from now on; {@link #DEFAULT} for the system's. */
    static void set(int fd, int ttl) throws LastErrorException {
        setsockopt(fd, IPPROTO_IP, IP_TTL, new int[] {ttl}, Integer.BYTES);
    }
}
