package io.meshwork.node.dataplane;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Linux TUN interface through {@code /dev/net/tun} (JNA direct mapping, no JNI code of ours): opened with
 * TUNSETIFF as {@code IFF_TUN | IFF_NO_PI}, non-blocking, with poll(2) for waiting so close never hangs a reader.
 *
 * <p>Offloads (on unless the system property {@code meshwork.tun.offload} is {@code false}): the interface is opened
 * with {@code IFF_VNET_HDR} and TUNSETOFFLOAD asks for checksum offload and TCP segmentation offload
 * ({@code TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6}) and UDP segmentation offload ({@code TUN_F_USO4 | TUN_F_USO6},
 * Linux 6.2 and later). The kernel then hands over TCP super-packets of up to 64 KB with a virtio_net_hdr in front
 * and accepts the same for writes (see {@link TunOffload}). A kernel that refuses USO gets TSO only, one that
 * refuses TSO too gets none; one that refuses the header gets the plain interface. Each fallback is logged once.
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
    private static final short IFF_VNET_HDR = 0x4000;
    private static final long TUNSETOFFLOAD = 0x400454d0L;
    private static final int TUN_F_CSUM = 0x01;
    private static final int TUN_F_TSO4 = 0x02;
    private static final int TUN_F_TSO6 = 0x04;
    private static final int TUN_F_USO4 = 0x20;
    private static final int TUN_F_USO6 = 0x40;
    /** Whether to ask for offloads at all; {@code -Dmeshwork.tun.offload=false} turns them off (for comparisons). */
    static final boolean OFFLOAD_WANTED = !"false".equalsIgnoreCase(System.getProperty("meshwork.tun.offload"));
    private static final Logger log = LoggerFactory.getLogger(LinuxTun.class);
    private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();
    /** An all-zero virtio_net_hdr written before plain packets when the header is on. Never written to. */
    private static final ByteBuffer EMPTY_HEADER = ByteBuffer.allocateDirect(TunOffload.HEADER_SIZE);
    /** struct ifreq: 16-byte name, then a union (flags: short at 16; mtu: int at 16); 40 bytes in all. */
    private static final int IFREQ_SIZE = 40;
    private static final int IFNAMSIZ = 16;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;
    private static final int POLLIN = 1;

    private static native int open(String path, int flags) throws LastErrorException;

    private static native int ioctl(int fd, long request, byte[] ifreq) throws LastErrorException;

    private static native int ioctl(int fd, long request, long argument) throws LastErrorException;

    private static native long writev(int fd, long[] iovec, int count) throws LastErrorException;

    private static native long read(int fd, Pointer buffer, long count) throws LastErrorException;

    private static native long write(int fd, Pointer buffer, long count) throws LastErrorException;

    private static native int poll(int[] fds, long count, int timeoutMillis) throws LastErrorException;

    private static native int socket(int domain, int type, int protocol) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;

    private final int fd;
    private final String name;
    private final int mtu;
    private final boolean vnetHeader;
    private final String offloadsDescription;
    private volatile boolean closed;

    private LinuxTun(int fd, String name, int mtu, boolean vnetHeader, String offloadsDescription) {
        this.fd = fd;
        this.name = name;
        this.mtu = mtu;
        this.vnetHeader = vnetHeader;
        this.offloadsDescription = offloadsDescription;
    }

    /**
     * Creates (or attaches to) the TUN interface {@code name} and sets its MTU. Needs CAP_NET_ADMIN.
     *
     * @throws IOException with the system's reason when the interface cannot be made
     */
    public static LinuxTun create(String name, int mtu) throws IOException {
        return create(name, mtu, OFFLOAD_WANTED);
    }

    /** As {@link #create(String, int)}, asking for offloads only when {@code offload} is true. */
    public static LinuxTun create(String name, int mtu, boolean offload) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length == 0 || nameBytes.length >= IFNAMSIZ) {
            throw new IOException("interface name must be 1 to 15 characters: " + name);
        }
        if (offload) {
            int fd = open(name, nameBytes, (short) (IFF_TUN | IFF_NO_PI | IFF_VNET_HDR), true);
            if (fd >= 0) {
                String offloads = setOffloads(fd, name);
                try {
                    configure(nameBytes, mtu);
                } catch (LastErrorException e) {
                    close(fd);
                    throw new IOException("cannot create TUN interface " + name + ": " + describe(e), e);
                }
                return new LinuxTun(fd, name, mtu, true, offloads);
            }
        }
        int fd = open(name, nameBytes, (short) (IFF_TUN | IFF_NO_PI), false);
        try {
            configure(nameBytes, mtu);
        } catch (LastErrorException e) {
            close(fd);
            throw new IOException("cannot create TUN interface " + name + ": " + describe(e), e);
        }
        return new LinuxTun(fd, name, mtu, false, "none");
    }

    /**
     * Opens /dev/net/tun and attaches it to the interface with {@code flags}. With {@code mayRefuse} a refusal of
     * the flags (EINVAL) is logged and gives -1, so the caller falls back; otherwise it is thrown.
     */
    private static int open(String name, byte[] nameBytes, short flags, boolean mayRefuse) throws IOException {
        int fd;
        try {
            fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
        } catch (LastErrorException e) {
            throw new IOException("cannot open /dev/net/tun: " + describe(e), e);
        }
        try {
            byte[] ifreq = ifreq(nameBytes);
            ifreq[IFNAMSIZ] = (byte) flags;
            ifreq[IFNAMSIZ + 1] = (byte) (flags >> 8);
            ioctl(fd, TUNSETIFF, ifreq);
            return fd;
        } catch (LastErrorException e) {
            close(fd);
            if (mayRefuse && e.getErrorCode() == 22 /* EINVAL */) {
                logFallback("TUN interface {}: the kernel refused IFF_VNET_HDR ({}); running without offloads",
                        name, e.getMessage());
                return -1;
            }
            throw new IOException("cannot create TUN interface " + name + ": " + describe(e), e);
        }
    }

    /** Asks for the richest set of offloads the kernel grants; returns which it got. */
    private static String setOffloads(int fd, String name) {
        int tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
        try {
            ioctl(fd, TUNSETOFFLOAD, (long) (tso | TUN_F_USO4 | TUN_F_USO6));
            return "csum tso4 tso6 uso4 uso6";
        } catch (LastErrorException e) {
            // Before Linux 6.2 there is no USO on TUN.
        }
        try {
            ioctl(fd, TUNSETOFFLOAD, (long) tso);
            logFallback("TUN interface {}: the kernel refused UDP segmentation offload; using TCP offloads only",
                    name, null);
            return "csum tso4 tso6";
        } catch (LastErrorException e) {
            logFallback("TUN interface {}: the kernel refused segmentation offloads ({}); one packet per read",
                    name, e.getMessage());
            return "none";
        }
    }

    private static void logFallback(String message, String name, String reason) {
        if (FALLBACK_LOGGED.compareAndSet(false, true)) {
            log.info(message, name, reason);
        } else {
            log.debug(message, name, reason);
        }
    }

    private static void configure(byte[] nameBytes, int mtu) {
        setIntOption(nameBytes, SIOCSIFMTU, mtu);
        setIntOption(nameBytes, SIOCSIFTXQLEN, TX_QUEUE_LENGTH);
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

    @Override
    public boolean offloads() {
        return vnetHeader;
    }

    /** The offloads the kernel granted, as words ("csum tso4 tso6 uso4 uso6"), or "none". */
    public String offloadsDescription() {
        return offloadsDescription;
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

    /** Writes from a direct buffer; with the virtio_net_hdr on, an empty one goes first (one writev). */
    @Override
    public void write(ByteBuffer packet) throws IOException {
        if (!packet.isDirect()) {
            throw new IllegalArgumentException("LinuxTun writes from direct buffers only");
        }
        if (!vnetHeader) {
            writeFrame(packet);
            return;
        }
        long[] iovec = {
            Pointer.nativeValue(Native.getDirectBufferPointer(EMPTY_HEADER)), TunOffload.HEADER_SIZE,
            Pointer.nativeValue(Native.getDirectBufferPointer(packet)) + packet.position(), packet.remaining()};
        try {
            writev(fd, iovec, 2);
        } catch (LastErrorException e) {
            if (e.getErrorCode() != EAGAIN) {
                throw new IOException("TUN write failed: " + e.getMessage(), e);
            }
        }
    }

    /** Writes a frame as it is (with the virtio_net_hdr when {@link #offloads()}), from a direct buffer. */
    @Override
    public void writeFrame(ByteBuffer frame) throws IOException {
        if (!frame.isDirect()) {
            throw new IllegalArgumentException("LinuxTun writes from direct buffers only");
        }
        try {
            write(fd, Native.getDirectBufferPointer(frame).share(frame.position()), frame.remaining());
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
