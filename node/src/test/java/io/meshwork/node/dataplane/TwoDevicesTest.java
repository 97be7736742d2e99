package io.meshwork.node.dataplane;

import io.meshwork.protocol.net.Prefix;
import io.meshwork.protocol.wireguard.Key;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The set-up of the device tests: two real devices, A (10.0.0.1) and B (10.0.0.2), over a {@link MemoryNetwork},
 * each the other's peer with the other's address allowed; A knows B's endpoint, B learns A's from the handshake.
 * A test class adds what it needs on top in its own {@code @BeforeEach}, which runs after this one.
 */
abstract class TwoDevicesTest {

    final MemoryNetwork network = new MemoryNetwork();
    private final String nameA;
    private final String nameB;
    private final boolean offloads;
    MemoryTun tunA;
    MemoryTun tunB;
    WireGuardDevice a;
    WireGuardDevice b;
    /** B as A's peer, and A as B's. */
    Peer bAtA;
    Peer aAtB;

    /** Interfaces named {@code nameA} and {@code nameB}, with TUN offloads or without. */
    TwoDevicesTest(String nameA, String nameB, boolean offloads) {
        this.nameA = nameA;
        this.nameB = nameB;
        this.offloads = offloads;
    }

    @BeforeEach
    void twoDevices() {
        tunA = new MemoryTun(nameA, offloads);
        tunB = new MemoryTun(nameB, offloads);
        a = new WireGuardDevice(tunA, network.at("192.0.2.1"));
        b = new WireGuardDevice(tunB, network.at("192.0.2.2"));
        a.setPrivateKey(Key.generatePrivate());
        b.setPrivateKey(Key.generatePrivate());
        bAtA = a.addPeer(b.publicKey());
        aAtB = b.addPeer(a.publicKey());
        a.addAllowedIp(bAtA, Prefix.parseAddressOrPrefix("10.0.0.2/32"));
        b.addAllowedIp(aAtB, Prefix.parseAddressOrPrefix("10.0.0.1/32"));
        a.setEndpoint(bAtA, b.transport().localAddress());
    }

    /**
     * A relay path for {@code from}: what it sends through the relay reaches {@code to} on {@code relay}'s thread,
     * as from a relay client's reader thread.
     */
    static WireGuardDevice.RelayPath relayTo(WireGuardDevice from, WireGuardDevice to, Executor relay) {
        return (peer, datagram) -> {
            byte[] copy = new byte[datagram.remaining()];
            datagram.duplicate().get(copy);
            relay.execute(() -> to.receiveFromRelay(from.publicKey(), ByteBuffer.wrap(copy)));
            return true;
        };
    }

    @AfterEach
    void closeDevices() {
        a.close();
        b.close();
        network.close();
    }
}
