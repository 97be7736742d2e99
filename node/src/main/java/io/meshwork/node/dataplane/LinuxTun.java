package io.meshwork.node.dataplane;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A Linux TUN interface through {@code /dev/net/tun} (JNA direct mapping, no JNI code of ours): opened with
 * TUNSETIFF as {@code IFF_TUN | IFF_NO_PI}, non-blocking, with poll(2) for waiting so close never hangs a reader.
 */
public final class LinuxTun implements TunDevice {

    static {
        Native.register(NativeLibrary.getInstance("c"));
    }

    private static final int O_RDWR = 2;
    private static final int O_NONBLOCK = 0x800;
    private static final long TUNSETIFF = 0x400454caL;
    private static final long SIOCSIFMTU = 0x8922L;
    private static final long SIOCSIFTXQLEN = 0x8943L;
    /**
     * The kernel queues packets for us on the interface's transmit queue; the default of 500 overflows during
     * TCP bursts while the reader encrypts, and every drop there costs a TCP back-off. 4000 absorbs them.
     */
    static final int TX_QUEUE_LENGTH = 4000;
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_NO_PI = 0x1000;
    /** struct ifreq: 16-byte name, then a union (flags: short at 16; mtu: int at 16); 40 bytes in all. */
    private static final int IFREQ_SIZE = 40;
    private static final int IFNAMSIZ = 16;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;
    private static final int POLLIN = 1;

    private static native int open(String path, int flags) throws LastErrorException;

    private static native int ioctl(int fd, long request, byte[] ifreq) throws LastErrorException;

    private static native long read(int fd, Pointer buffer, long count) throws LastErrorException;

    private static native long write(int fd, Pointer buffer, long count) throws LastErrorException;

    private static native int poll(int[] fds, long count, int timeoutMillis) throws LastErrorException;

    private static native int socket(int domain, int type, int protocol) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;

    private final int fd;
    private final String name;
    private final int mtu;
    private volatile boolean closed;

    private LinuxTun(int fd, String name, int mtu) {
        this.fd = fd;
        this.name = name;
        this.mtu = mtu;
    }

    /**
     * Creates (or attaches to) the TUN interface {@code name} and sets its MTU. Needs CAP_NET_ADMIN.
     *
     * @throws IOException with the system's reason when the interface cannot be made
     */
    public static LinuxTun create(String name, int mtu) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length == 0 || nameBytes.length >= IFNAMSIZ) {
            throw new IOException("interface name must be 1 to 15 characters: " + name);
        }
        int fd;
        try {
            fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
        } catch (LastErrorException e) {
            throw new IOException("cannot open /dev/net/tun: " + describe(e), e);
        }
        try {
            byte[] ifreq = ifreq(nameBytes);
            short flags = (short) (IFF_TUN | IFF_NO_PI);
            ifreq[IFNAMSIZ] = (byte) flags;
            ifreq[IFNAMSIZ + 1] = (byte) (flags >> 8);
            ioctl(fd, TUNSETIFF, ifreq);
            setIntOption(nameBytes, SIOCSIFMTU, mtu);
            setIntOption(nameBytes, SIOCSIFTXQLEN, TX_QUEUE_LENGTH);
        } catch (LastErrorException e) {
            close(fd);
            throw new IOException("cannot create TUN interface " + name + ": " + describe(e), e);
        }
        return new LinuxTun(fd, name, mtu);
    }

    /** An interface ioctl whose argument is an int in the ifreq union (MTU, transmit queue length). */
    private static void setIntOption(byte[] nameBytes, long request, int value) {
        int socket = socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
        try {
            byte[] ifreq = ifreq(nameBytes);
            for (int i = 0; i < 4; i++) {
                ifreq[IFNAMSIZ + i] = (byte) (value >>> (8 * i));
            }
            ioctl(socket, request, ifreq);
        } finally {
            close(socket);
        }
    }

    private static byte[] ifreq(byte[] nameBytes) {
        byte[] ifreq = new byte[IFREQ_SIZE];
        System.arraycopy(nameBytes, 0, ifreq, 0, nameBytes.length);
        return ifreq;
    }

    private static String describe(LastErrorException e) {
        return switch (e.getErrorCode()) {
            case 1 -> "operation not permitted (needs root or CAP_NET_ADMIN)";
            case 2 -> "no such file (is the tun module loaded?)";
            case 16 -> "device busy (another process owns this interface)";
            default -> e.getMessage();
        };
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    /** Reads into a direct buffer. */
    @Override
    public int read(ByteBuffer buffer, int timeoutMillis) throws IOException {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("LinuxTun reads into direct buffers only");
        }
        while (!closed) {
            try {
                long n = read(fd, Native.getDirectBufferPointer(buffer).share(buffer.position()), buffer.remaining());
                buffer.position(buffer.position() + (int) n);
                return (int) n;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EINTR) {
                    continue;
                }
                if (e.getErrorCode() != EAGAIN) {
                    if (closed) {
                        return -1;
                    }
                    throw new IOException("TUN read failed: " + e.getMessage(), e);
                }
            }
            int[] pollfd = {fd, POLLIN};
            try {
                if (poll(pollfd, 1, timeoutMillis) == 0) {
                    return 0;
                }
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw new IOException("poll on TUN failed: " + e.getMessage(), e);
                }
            }
        }
        return -1;
    }

    /** Writes from a direct buffer. */
    @Override
    public void write(ByteBuffer packet) throws IOException {
        if (!packet.isDirect()) {
            throw new IllegalArgumentException("LinuxTun writes from direct buffers only");
        }
        try {
            write(fd, Native.getDirectBufferPointer(packet).share(packet.position()), packet.remaining());
        } catch (LastErrorException e) {
            if (e.getErrorCode() != EAGAIN) {
                throw new IOException("TUN write failed: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            close(fd);
        }
    }
}
