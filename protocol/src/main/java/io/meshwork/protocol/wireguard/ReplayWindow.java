package io.meshwork.protocol.wireguard;

/**
 * The sliding window of received counters (WireGuard §5.4.6, RFC 6479 style): a bitmap of 2048 counters in
 * 64-bit blocks that slides forward as newer counters arrive, so reordered packets within the window are
 * accepted once and replays or packets older than the window are rejected. Thread-safe.
 */
public final class ReplayWindow {

    /** Counters this far behind the newest one are still accepted when first seen. */
    public static final int WINDOW_SIZE = 2048 - 64;
    /** WireGuard's REJECT_AFTER_MESSAGES: counters at or past it are never accepted. */
    public static final long REJECT_AFTER_MESSAGES = -1L - (1L << 13);

    private static final int BLOCK_BITS = 64;
    private static final int BLOCKS = 2048 / BLOCK_BITS;

    private final long[] blocks = new long[BLOCKS];
    private long newest = -1;

    /**
     * True if {@code counter} may be decrypted: new and inside the window. Does not record it; call
     * {@link #accept(long)} once the packet authenticated, so forged packets cannot burn counters.
     */
    public synchronized boolean mayAccept(long counter) {
        if (Long.compareUnsigned(counter, REJECT_AFTER_MESSAGES) >= 0) {
            return false;
        }
        if (newest == -1 || counter > newest) {
            return true;
        }
        if (newest - counter > WINDOW_SIZE) {
            return false;
        }
        return (blocks[blockOf(counter)] & bit(counter)) == 0;
    }

    /** Records an authenticated counter; false when it was a replay after all (a concurrent duplicate). */
    public synchronized boolean accept(long counter) {
        if (!mayAccept(counter)) {
            return false;
        }
        if (newest == -1 || counter > newest) {
            long currentBlock = newest == -1 ? -1 : newest / BLOCK_BITS;
            long targetBlock = counter / BLOCK_BITS;
            long toClear = Math.min(targetBlock - currentBlock, BLOCKS);
            for (long i = 1; i <= toClear; i++) {
                blocks[(int) ((currentBlock + i) % BLOCKS)] = 0;
            }
            newest = counter;
        }
        blocks[blockOf(counter)] |= bit(counter);
        return true;
    }

    private static int blockOf(long counter) {
        return (int) ((counter / BLOCK_BITS) % BLOCKS);
    }

    private static long bit(long counter) {
        return 1L << (counter % BLOCK_BITS);
    }
}
