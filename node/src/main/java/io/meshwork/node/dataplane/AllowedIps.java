package io.meshwork.node.dataplane;

import io.meshwork.protocol.net.Prefix;
import io.meshwork.protocol.net.IpLiteral;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The cryptokey routing table (WireGuard §2): IPv4 and IPv6 prefixes mapped to peers, longest prefix wins.
 * A binary trie per address family; lookups read addresses straight out of packets without allocating.
 * Reads take a shared lock, changes an exclusive one.
 *
 * @param <P> what a prefix routes to
 */
public final class AllowedIps<P> {

    private static final class Node<P> {
        @SuppressWarnings("unchecked")
        final Node<P>[] children = new Node[2];
        P value;
    }

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private Node<P> v4 = new Node<>();
    private Node<P> v6 = new Node<>();

    /** Routes {@code prefix} to {@code value}, replacing whoever had exactly that prefix. */
    public void insert(Prefix prefix, P value) {
        Objects.requireNonNull(value);
        lock.writeLock().lock();
        try {
            byte[] bytes = prefix.address().getAddress();
            Node<P> node = bytes.length == 4 ? v4 : v6;
            for (int bit = 0; bit < prefix.length(); bit++) {
                int b = (bytes[bit / 8] >>> (7 - bit % 8)) & 1;
                if (node.children[b] == null) {
                    node.children[b] = new Node<>();
                }
                node = node.children[b];
            }
            node.value = value;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Removes every prefix that routes to {@code value}. */
    public void removeAll(P value) {
        lock.writeLock().lock();
        try {
            prune(v4, value);
            prune(v6, value);
        } finally {
            lock.writeLock().unlock();
        }
    }

    private boolean prune(Node<P> node, P value) {
        if (node == null) {
            return true;
        }
        if (value.equals(node.value)) {
            node.value = null;
        }
        for (int b = 0; b < 2; b++) {
            if (prune(node.children[b], value)) {
                node.children[b] = null;
            }
        }
        return node.value == null && node.children[0] == null && node.children[1] == null;
    }

    /** Every prefix routed to {@code value}. */
    public List<Prefix> prefixesOf(P value) {
        List<Prefix> out = new ArrayList<>();
        lock.readLock().lock();
        try {
            collect(v4, new byte[4], 0, value, out);
            collect(v6, new byte[16], 0, value, out);
        } finally {
            lock.readLock().unlock();
        }
        return out;
    }

    private void collect(Node<P> node, byte[] bits, int depth, P value, List<Prefix> out) {
        if (node == null) {
            return;
        }
        if (value.equals(node.value)) {
            out.add(new Prefix(IpLiteral.of(bits.clone()), depth));
        }
        for (int b = 0; b < 2; b++) {
            if (node.children[b] != null) {
                byte[] next = bits.clone();
                if (b == 1) {
                    next[depth / 8] |= (byte) (0x80 >>> (depth % 8));
                }
                collect(node.children[b], next, depth + 1, value, out);
            }
        }
    }

    /**
     * The value of the longest prefix containing the address of {@code addressLength} (4 or 16) bytes at
     * {@code offset} in {@code packet}, or null.
     */
    public P lookup(ByteBuffer packet, int offset, int addressLength) {
        lock.readLock().lock();
        try {
            Node<P> node = addressLength == 4 ? v4 : v6;
            P best = node.value;
            for (int bit = 0; bit < addressLength * 8; bit++) {
                int b = (packet.get(offset + bit / 8) >>> (7 - bit % 8)) & 1;
                node = node.children[b];
                if (node == null) {
                    break;
                }
                if (node.value != null) {
                    best = node.value;
                }
            }
            return best;
        } finally {
            lock.readLock().unlock();
        }
    }

    public P lookup(InetAddress address) {
        byte[] bytes = address.getAddress();
        return lookup(ByteBuffer.wrap(bytes), 0, bytes.length);
    }

    public void clear() {
        lock.writeLock().lock();
        try {
            v4 = new Node<>();
            v6 = new Node<>();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
