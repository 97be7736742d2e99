package io.meshwork.benchmarks;

import io.meshwork.protocol.wireguard.Handshake;
import io.meshwork.protocol.wireguard.Key;
import io.meshwork.protocol.wireguard.Keypair;
import io.meshwork.protocol.wireguard.LocalIdentity;
import io.meshwork.protocol.wireguard.Macs;
import io.meshwork.protocol.wireguard.WireGuardException;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Cost of WireGuard handshakes: one side's initiation, the responder's processing, and a whole handshake.
 * Run with {@code bench/jmh.sh WireGuardHandshake}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class WireGuardHandshakeBenchmark {

    private LocalIdentity initiator;
    private LocalIdentity responder;
    private Handshake initiatorSide;
    private Handshake responderSide;
    private byte[] initiation;
    private long clock;

    @Setup
    public void setUp() throws WireGuardException {
        initiator = new LocalIdentity(Key.generatePrivate());
        responder = new LocalIdentity(Key.generatePrivate());
        initiatorSide = new Handshake(initiator, responder.publicKey());
        responderSide = new Handshake(responder, initiator.publicKey());
        initiation = initiatorSide.createInitiation(1, Instant.now());
        Macs.add(initiation, initiatorSide, null);
    }

    @Benchmark
    public byte[] createInitiation() throws WireGuardException {
        return initiatorSide.createInitiation(1, Instant.now());
    }

    /** What a responder spends on one valid initiation before it knows the peer: mac1 plus two DHs. */
    @Benchmark
    public Handshake.ConsumedInitiation consumeInitiation() throws WireGuardException {
        if (!Macs.mac1Valid(responder, initiation)) {
            throw new IllegalStateException("mac1");
        }
        return Handshake.consumeInitiation(responder, initiation);
    }

    @Benchmark
    public Keypair fullHandshake() throws WireGuardException {
        byte[] message = initiatorSide.createInitiation(1, Instant.ofEpochSecond(1_800_000_000L, clock += 1 << 24));
        responderSide.acceptInitiation(Handshake.consumeInitiation(responder, message));
        Handshake.Response response = responderSide.createResponse(2, 0);
        return initiatorSide.consumeResponse(response.message(), 0);
    }
}
