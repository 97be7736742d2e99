package io.meshwork.benchmarks;

import io.meshwork.protocol.wireguard.ChaChaPoly;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.AEADBadTagException;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Sealing and opening transport packets (ChaCha20-Poly1305 with the WireGuard nonce), per packet size.
 * Throughput in MB/s = size / (ns/op) * 1000. Run with {@code bench/jmh.sh WireGuardTransport}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class WireGuardTransportBenchmark {

    @Param({"64", "1420"})
    public int size;

    private static final int SEALED_COUNT = 1024;

    private SecretKeySpec key;
    private ByteBuffer plaintext;
    private ByteBuffer out;
    private ByteBuffer[] sealed;
    private long counter;

    @Setup
    public void setUp() {
        byte[] keyBytes = new byte[32];
        new SecureRandom().nextBytes(keyBytes);
        key = ChaChaPoly.key(keyBytes);
        plaintext = ByteBuffer.allocate(size);
        out = ByteBuffer.allocate(size + ChaChaPoly.TAG_LENGTH);
        sealed = new ByteBuffer[SEALED_COUNT];
        for (int i = 0; i < SEALED_COUNT; i++) {
            sealed[i] = ByteBuffer.allocate(size + ChaChaPoly.TAG_LENGTH);
            ChaChaPoly.seal(key, i, plaintext.duplicate(), sealed[i], null);
            sealed[i].flip();
        }
    }

    @Benchmark
    public int seal() {
        out.clear();
        return ChaChaPoly.seal(key, counter++, plaintext.duplicate(), out, null);
    }

    @Benchmark
    public int open() throws AEADBadTagException {
        int index = (int) (counter++ % SEALED_COUNT);
        out.clear();
        return ChaChaPoly.open(key, index, sealed[index].duplicate(), out, null);
    }
}
