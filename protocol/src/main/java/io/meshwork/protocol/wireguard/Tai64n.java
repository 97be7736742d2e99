package io.meshwork.protocol.wireguard;

import java.time.Instant;
import java.util.Arrays;

/** TAI64N timestamps (WireGuard §5.1): 8 bytes of seconds + 2^62, then 4 bytes of nanoseconds, big-endian. */
public final class Tai64n {

    public static final int LENGTH = 12;
    private static final long TAI64_BASE = 0x4000000000000000L;

    private Tai64n() {}

    /**
     * The timestamp of {@code time}. Nanoseconds are rounded down to a multiple of 2^24 (about 16 ms), as
     * wireguard-go does, so the timestamp does not leak a fine-grained clock.
     */
    public static byte[] of(Instant time) {
        byte[] out = new byte[LENGTH];
        long seconds = TAI64_BASE + time.getEpochSecond();
        int nanos = time.getNano() & ~0xFFFFFF;
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (seconds >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            out[8 + i] = (byte) (nanos >>> (24 - 8 * i));
        }
        return out;
    }

    /** True when {@code candidate} is strictly later than {@code last}; a replayed initiation is not. */
    public static boolean isAfter(byte[] candidate, byte[] last) {
        return last == null || Arrays.compareUnsigned(candidate, last) > 0;
    }
}
