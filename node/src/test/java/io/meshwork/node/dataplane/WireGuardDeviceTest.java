package io.meshwork.node.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.wireguard.Handshake;
import io.meshwork.protocol.wireguard.Key;
import io.meshwork.protocol.wireguard.LocalIdentity;
import io.meshwork.protocol.wireguard.Macs;
import io.meshwork.protocol.wireguard.Messages;
import io.meshwork.protocol.wireguard.Timers;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WireGuardDeviceTest extends TwoDevicesTest {

    WireGuardDeviceTest() {
        super("wga", "wgb", false);
    }

    /** A minimal IPv4 packet from {@code src} to {@code dst} (last octets) with a payload. */
    static byte[] ipv4(int src, int dst, byte[] payload) {
        byte[] packet = new byte[20 + payload.length];
        packet[0] = 0x45;
        packet[2] = (byte) (packet.length >> 8);
        packet[3] = (byte) packet.length;
        packet[8] = 64;
        packet[9] = 17;
        packet[12] = 10;
        packet[15] = (byte) src;
        packet[16] = 10;
        packet[19] = (byte) dst;
        System.arraycopy(payload, 0, packet, 20, payload.length);
        return packet;
    }

    @Test
    void packetsCrossBothWaysAfterAHandshakeStartedByTraffic() throws Exception {
        byte[] toB = ipv4(1, 2, "hello b".getBytes());
        tunA.fromOs.add(toB);
        assertArrayEquals(toB, tunB.toOs.poll(5, TimeUnit.SECONDS));
        // B learned A's endpoint from the authenticated handshake (roaming) and can answer.
        assertEquals(a.transport().localAddress(), aAtB.endpoint());
        byte[] toA = ipv4(2, 1, new byte[1000]);
        new Random(1).nextBytes(toA);
        byte[] fixed = ipv4(2, 1, java.util.Arrays.copyOfRange(toA, 20, 1000));
        tunB.fromOs.add(fixed);
        assertArrayEquals(fixed, tunA.toOs.poll(5, TimeUnit.SECONDS));
        assertTrue(bAtA.lastHandshakeEpochMillis() > 0);
        assertTrue(bAtA.txBytes() > 0 && bAtA.rxBytes() > 0);
    }

    @Test
    void manyPacketsArriveInOrderAndIntact() throws Exception {
        tunA.fromOs.add(ipv4(1, 2, new byte[5]));
        assertNotNull(tunB.toOs.poll(5, TimeUnit.SECONDS));
        for (int i = 0; i < 300; i++) {
            tunA.fromOs.add(ipv4(1, 2, new byte[] {(byte) i, (byte) (i >> 8), 1, 2, 3}));
        }
        for (int i = 0; i < 300; i++) {
            byte[] got = tunB.toOs.poll(5, TimeUnit.SECONDS);
            assertNotNull(got, "packet " + i + " a: " + drops(a) + " b: " + drops(b));
            assertEquals(25, got.length);
        }
    }

    @Test
    void packetsForUnknownDestinationsOrFromDisallowedSourcesAreDropped() throws Exception {
        tunA.fromOs.add(ipv4(1, 99, new byte[8]));
        tunA.fromOs.add(ipv4(1, 2, new byte[8]));
        assertNotNull(tunB.toOs.poll(5, TimeUnit.SECONDS));
        assertEquals(1, a.dropped(DropReason.NO_ROUTE));
        // 10.0.0.7 is not in A's allowed IPs at B: B drops what A sends from it.
        tunA.fromOs.add(ipv4(7, 2, new byte[8]));
        tunA.fromOs.add(ipv4(1, 2, new byte[8]));
        assertNotNull(tunB.toOs.poll(5, TimeUnit.SECONDS));
        assertNull(tunB.toOs.poll(200, TimeUnit.MILLISECONDS));
        assertEquals(1, b.dropped(DropReason.NOT_ALLOWED_SOURCE));
    }

    @Test
    void hostileDatagramsAreDroppedAndTheSessionKeepsWorking() throws Exception {
        tunA.fromOs.add(ipv4(1, 2, new byte[8]));
        assertNotNull(tunB.toOs.poll(5, TimeUnit.SECONDS));
        InetSocketAddress attacker = new InetSocketAddress("198.51.100.66", 6666);
        InetSocketAddress target = b.transport().localAddress();
        Random random = new Random(42);
        for (int i = 0; i < 500; i++) {
            byte[] junk = new byte[random.nextInt(200)];
            random.nextBytes(junk);
            if (junk.length >= 4) {
                junk[0] = (byte) (1 + random.nextInt(4));
                junk[1] = 0;
                junk[2] = 0;
                junk[3] = 0;
            }
            network.inject(junk, attacker, target);
        }
        byte[] forgedInitiation = new byte[148];
        forgedInitiation[0] = 1;
        network.inject(forgedInitiation, attacker, target);
        tunA.fromOs.add(ipv4(1, 2, "still here".getBytes()));
        byte[] got = tunB.toOs.poll(5, TimeUnit.SECONDS);
        assertNotNull(got);
        assertEquals("still here", new String(got, 20, got.length - 20));
        assertTrue(b.dropped(DropReason.MALFORMED) + b.dropped(DropReason.UNKNOWN_INDEX)
                + b.dropped(DropReason.BAD_MAC1) > 400);
        assertEquals(a.transport().localAddress(), aAtB.endpoint(), "forged packets do not move the endpoint");
    }

    @Test
    void replayedTransportPacketsAreDropped() throws Exception {
        // Capture what A sends to B by putting a recording peer address in between.
        tunA.fromOs.add(ipv4(1, 2, new byte[8]));
        assertNotNull(tunB.toOs.poll(5, TimeUnit.SECONDS));
        long before = b.dropped(DropReason.REPLAYED);
        // A keepalive-free way to replay: re-inject a transport datagram we build from A's next send.
        RecordingTap tap = new RecordingTap(network, a.transport().localAddress());
        a.setEndpoint(bAtA, tap.address);
        tunA.fromOs.add(ipv4(1, 2, new byte[16]));
        byte[] captured = tap.captured.poll(5, TimeUnit.SECONDS);
        assertNotNull(captured);
        network.inject(captured, a.transport().localAddress(), b.transport().localAddress());
        assertNotNull(tunB.toOs.poll(5, TimeUnit.SECONDS));
        network.inject(captured, a.transport().localAddress(), b.transport().localAddress());
        assertNull(tunB.toOs.poll(300, TimeUnit.MILLISECONDS));
        assertEquals(before + 1, b.dropped(DropReason.REPLAYED), drops(b));
    }

    @Test
    void removingAPeerDropsItsKeysAndRoutes() throws Exception {
        tunA.fromOs.add(ipv4(1, 2, new byte[8]));
        assertNotNull(tunB.toOs.poll(5, TimeUnit.SECONDS));
        b.removePeer(a.publicKey());
        assertNull(b.peer(a.publicKey()));
        tunA.fromOs.add(ipv4(1, 2, new byte[8]));
        assertNull(tunB.toOs.poll(300, TimeUnit.MILLISECONDS));
        assertTrue(b.dropped(DropReason.UNKNOWN_INDEX) >= 1, drops(b));
    }

    private static String drops(WireGuardDevice device) {
        StringBuilder text = new StringBuilder();
        for (DropReason reason : DropReason.values()) {
            text.append(reason).append('=').append(device.dropped(reason)).append(' ');
        }
        return text.toString();
    }

    @Test
    void underLoadHandshakesNeedACookieAndGenuinePeersStillGetThrough() throws Exception {
        // Flood B with handshake messages that carry a correct mac1 for B to push it under load. Responses to no
        // handshake of B's cost it a mac1 check and an index lookup each, so B counts them well over the rate even
        // on a starved CPU; initiations would each cost it the Diffie-Hellman of consuming them, and a machine too
        // busy to consume 128 a second never saw the load (the test failed there).
        Handshake toB = new Handshake(new LocalIdentity(Key.generatePrivate()), b.publicKey());
        InetSocketAddress flooder = new InetSocketAddress("198.51.100.7", 7777);
        for (int i = 0; i < WireGuardDevice.UNDER_LOAD_HANDSHAKES_PER_SECOND + 50; i++) {
            byte[] response = new byte[Messages.RESPONSE_SIZE];
            response[0] = Messages.TYPE_RESPONSE;
            // The receiver index (bytes 8-11, little-endian): none B ever gave out.
            java.nio.ByteBuffer.wrap(response, 8, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(i + 1);
            Macs.add(response, toB, null);
            network.inject(response, flooder, b.transport().localAddress());
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (b.dropped(DropReason.NEEDS_COOKIE) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(b.dropped(DropReason.NEEDS_COOKIE) > 0, drops(b));
        // A's first initiation now gets a cookie reply; A retries with mac2 and the session comes up.
        tunA.fromOs.add(ipv4(1, 2, "through the cookie".getBytes()));
        byte[] got = tunB.toOs.poll(10, TimeUnit.SECONDS);
        assertNotNull(got, "a: " + drops(a) + " b: " + drops(b));
        assertEquals("through the cookie", new String(got, 20, got.length - 20));
    }

    @Test
    void aRetryTheTimerDecidedOnBeforeAHandshakeStartedSendsNoSecondInitiation() {
        List<Key> initiations = new CopyOnWriteArrayList<>();
        a.setRelayPath((peer, datagram) -> initiations.add(peer));
        a.setEndpoint(bAtA, null);
        a.useRelay(bAtA, true);
        // The timer thread read the clocks here, while no handshake was in flight ...
        long timerLooked = System.nanoTime();
        // ... then one started, and the timer, deciding on what it read, would retry it at once.
        a.initiateHandshake(bAtA);
        a.handshakes().retryIfDue(bAtA, timerLooked);
        assertEquals(List.of(b.publicKey()), initiations, "one initiation, not two");
        // A retry that is due goes out.
        a.handshakes().retryIfDue(bAtA, timerLooked + Timers.REKEY_TIMEOUT + Timers.MAX_REKEY_JITTER + 1);
        assertEquals(2, initiations.size());
    }

    @Test
    void withoutADirectPathTheSessionRunsThroughTheRelay() throws Exception {
        var relayThread = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            a.setRelayPath(relayTo(a, b, relayThread));
            b.setRelayPath(relayTo(b, a, relayThread));
            a.setEndpoint(bAtA, null);
            a.useRelay(bAtA, true);
            tunA.fromOs.add(ipv4(1, 2, "relayed".getBytes()));
            byte[] got = tunB.toOs.poll(5, TimeUnit.SECONDS);
            assertNotNull(got, "a: " + drops(a) + " b: " + drops(b));
            assertEquals("relayed", new String(got, 20, got.length - 20));
            assertTrue(aAtB.viaRelay(), "B answers on the path A's packets came by");
            assertNull(aAtB.endpoint(), "the relay is never taken for an endpoint");
            tunB.fromOs.add(ipv4(2, 1, "back".getBytes()));
            assertNotNull(tunA.toOs.poll(5, TimeUnit.SECONDS));
        } finally {
            relayThread.shutdownNow();
        }
    }

    @Test
    void anInitiationThatFoundNoRelayGoesAgainWhenAskedInsteadOfAfterTheRetryTimeout() {
        java.util.concurrent.atomic.AtomicBoolean connected = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.List<Boolean> initiations = new java.util.concurrent.CopyOnWriteArrayList<>();
        a.setRelayPath((peer, datagram) -> {
            if (datagram.get(datagram.position()) == 1) {
                initiations.add(connected.get());
            }
            return connected.get();
        });
        a.setEndpoint(bAtA, null);
        a.useRelay(bAtA, true);

        a.initiateHandshake(bAtA);
        assertEquals(java.util.List.of(false), initiations, "the relay is not connected yet: dropped");
        connected.set(true);
        a.initiateHandshake(bAtA);
        assertEquals(java.util.List.of(false, true), initiations, "sent again at once once the relay is there");
        a.initiateHandshake(bAtA);
        assertEquals(java.util.List.of(false, true), initiations,
                "a delivered initiation is in flight: no new one until the retry timeout");
    }

    @Test
    void aSessionWhoseConfirmationFoundNoPathIsConfirmedWhenAPathIsThere() throws Exception {
        var relayThread = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            // A's relay carries its initiation, but its transport messages find no connection until it is there.
            java.util.concurrent.atomic.AtomicBoolean transportConnected = new java.util.concurrent.atomic.AtomicBoolean();
            WireGuardDevice.RelayPath toB = relayTo(a, b, relayThread);
            a.setRelayPath((peer, datagram) -> datagram.get(datagram.position()) == 1 || transportConnected.get()
                    ? toB.send(peer, datagram) : false);
            b.setRelayPath(relayTo(b, a, relayThread));
            a.setEndpoint(bAtA, null);
            a.useRelay(bAtA, true);

            a.initiateHandshake(bAtA);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!bAtA.hasSession() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(bAtA.hasSession(), "A's handshake completed: " + drops(a));
            relayThread.submit(() -> { }).get(5, TimeUnit.SECONDS);
            assertFalse(aAtB.hasSession(), "B has not heard A confirm the session");

            transportConnected.set(true);
            a.initiateHandshake(bAtA);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!aAtB.hasSession() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(aAtB.hasSession(), "A's keepalive confirmed the session at B once the path was there");
        } finally {
            relayThread.shutdownNow();
        }
    }

    /** A transport bound at another address that only records what reaches it. */
    static final class RecordingTap {
        final java.util.concurrent.BlockingQueue<byte[]> captured = new java.util.concurrent.LinkedBlockingQueue<>();
        final InetSocketAddress address;

        RecordingTap(MemoryNetwork network, InetSocketAddress near) {
            var transport = network.at("192.0.2.9").apply(0);
            this.address = transport.localAddress();
            transport.register(io.meshwork.protocol.demux.DatagramKind.WIREGUARD, (datagram, from) -> {
                byte[] copy = new byte[datagram.remaining()];
                datagram.duplicate().get(copy);
                captured.add(copy);
            });
        }
    }
}
