package io.meshwork.protocol.relay;

import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.ObservedAddress;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Random and mutated input only ever decodes or fails with {@link RelayFrameException}. */
class RelayFrameFuzzTest {

    private static final RelayKey KEY = RelayKey.of(new byte[32]);

    @Test
    void mutatedFramesNeverThrowAnythingElse() {
        Random random = new Random(5);
        List<byte[]> seeds = List.of(
                RelayFrameCodec.encodeDatagram(new ClientAuth(KEY, ByteBuffer.allocate(24), ByteBuffer.allocate(32),
                        ByteBuffer.allocate(40))),
                RelayFrameCodec.encodeDatagram(new ObservedAddress(RelayFrame.Transport.UDP,
                        new InetSocketAddress("192.0.2.1", 1))),
                RelayFrameCodec.encodeDatagram(new SendPacket(KEY, ByteBuffer.allocate(20))),
                RelayFrameCodec.encodeDatagram(new Goodbye(RelayFrame.CloseReason.IDLE, "idle")));
        for (int round = 0; round < 50_000; round++) {
            byte[] seed = seeds.get(round % seeds.size());
            int length = random.nextInt(seed.length + 8);
            byte[] input = new byte[length];
            System.arraycopy(seed, 0, input, 0, Math.min(length, seed.length));
            for (int flips = random.nextInt(4); flips > 0 && length > 0; flips--) {
                input[random.nextInt(length)] = (byte) random.nextInt(256);
            }
            if (length >= 4 && random.nextBoolean()) {
                System.arraycopy(DatagramKind.RELAY_MAGIC, 0, input, 0, 4);
            }
            decodeQuietly(input);
        }
    }

    @Test
    void randomBytesNeverThrowAnythingElse() {
        Random random = new Random(7);
        for (int round = 0; round < 50_000; round++) {
            byte[] input = new byte[random.nextInt(120)];
            random.nextBytes(input);
            if (input.length > 4) {
                System.arraycopy(DatagramKind.RELAY_MAGIC, 0, input, 0, 4);
            }
            decodeQuietly(input);
        }
    }

    private static void decodeQuietly(byte[] input) {
        try {
            RelayFrameCodec.decodeDatagram(ByteBuffer.wrap(input));
        } catch (RelayFrameException expected) {
            // The one allowed failure.
        }
        try {
            RelayFrameCodec.decodeFrame(ByteBuffer.wrap(input));
        } catch (RelayFrameException expected) {
            // The one allowed failure.
        }
    }
}
