package io.meshwork.simulation.mesh;

import io.meshwork.node.relay.RelayAddress;
import io.meshwork.node.relay.RelayCredential;
import io.meshwork.node.relay.RelayStreamConnector;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.relay.auth.DeviceCertificateIssuer;
import io.meshwork.relay.auth.RevocationList;
import io.meshwork.relay.auth.TrustAnchors;
import io.meshwork.relay.metrics.RelayMetrics;
import io.meshwork.relay.server.DatagramSender;
import io.meshwork.relay.server.RelayConfig;
import io.meshwork.relay.server.RelayEngine;
import io.meshwork.simulation.Host;
import io.meshwork.simulation.Simulation;
import io.meshwork.simulation.VirtualTransport;
import io.meshwork.simulation.VirtualWallClock;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The relay of the simulated internet: the real relay ({@link RelayEngine}: challenge/response handshake, device
 * certificates checked against the mesh's CA and revocation list, routing by key, rate limits, drop counters) on a
 * public virtual host, its UDP socket a {@link VirtualTransport} and its time the simulation's. Nodes reach it
 * with the real {@link io.meshwork.node.relay.RelayClient}.
 *
 * <p>Still simulated: TCP. The virtual network carries UDP only, so a node's TCP fallback (for a site that blocks
 * UDP) is a {@link VirtualStreamConnector} stream: the same length-prefixed frames into the same relay, delivered
 * after {@link SimMesh#RELAY_DELAY} each way and around the NATs and links, as if outbound TCP always got through.
 */
final class SimRelay {

    /** Virtual time zero as wall time: what certificates and handshake challenges are compared with. */
    static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");
    static final int PORT = 3340;
    private static final Duration SWEEP_INTERVAL = Duration.ofSeconds(1);

    private final Simulation simulation;
    private final Host host;
    private final InetSocketAddress address;
    private final String name;
    private final DeviceCertificateIssuer ca;
    private final RevocationList revocations;
    private final VirtualWallClock clock;
    private final VirtualStreamConnector.Listener streams;
    private VirtualTransport socket;
    private RelayEngine engine;
    private ScheduledFuture<?> sweeper;
    private int starts;
    private Duration certificateLifetime;
    private Duration renewalGrace = Duration.ZERO;
    private int renewals;

    SimRelay(Simulation simulation, Duration streamDelay) {
        this(simulation, streamDelay, "relay", "203.0.113.20",
                DeviceCertificateIssuer.create("meshwork simulation CA", EPOCH), new RevocationList());
    }

    /**
     * Another relay of the same mesh, {@code name} at {@code ip}: it trusts {@code ca} and follows
     * {@code revocations}, as every relay enrolled with one control does.
     */
    SimRelay(Simulation simulation, Duration streamDelay, String name, String ip, DeviceCertificateIssuer ca,
            RevocationList revocations) {
        this.simulation = simulation;
        this.name = name;
        this.ca = ca;
        this.revocations = revocations;
        this.host = simulation.network().addPublicHost(name, ip);
        this.address = new InetSocketAddress(host.address(), PORT);
        this.clock = new VirtualWallClock(simulation.scheduler(), EPOCH);
        this.streams = new VirtualStreamConnector.Listener(simulation.scheduler(), simulation.network(), streamDelay,
                address);
        start();
    }

    String name() {
        return name;
    }

    /** A relay of the same mesh: same CA, same revocations. */
    SimRelay sibling(String siblingName, String ip, Duration streamDelay) {
        SimRelay sibling = new SimRelay(simulation, streamDelay, siblingName, ip, ca, revocations);
        sibling.certificateLifetime = certificateLifetime;
        sibling.renewalGrace = renewalGrace;
        return sibling;
    }

    private String region;

    /** Puts the relay in {@code region} of the virtual network (docs/architecture.md, "Simulation and lab"). */
    void placeIn(String newRegion) {
        this.region = newRegion;
        simulation.network().placeInRegion(host, newRegion);
    }

    /** The relay as control lists it for devices. */
    io.meshwork.protocol.api.RelayInfo info() {
        String at = address.getAddress().getHostAddress() + ":" + address.getPort();
        return new io.meshwork.protocol.api.RelayInfo(name, at, at, null, region);
    }

    /** Where nodes find the relay: UDP on the virtual network, TCP as a virtual stream to the same address. */
    RelayAddress address() {
        return RelayAddress.of(address, address);
    }

    /** TCP connections from {@code client} to the relay. */
    RelayStreamConnector streamsFrom(Host client) {
        return new VirtualStreamConnector(streams, client);
    }

    /** A device's relay credential, the serial of its certificate and the certificate as PEM. */
    record Enrollment(RelayCredential credential, BigInteger serial, String pem) {}

    /**
     * A device certificate from the CA the relay trusts: valid around the simulation's epoch, or for
     * {@link #certificateLifetime} from now when one is set (as control issues them).
     */
    Enrollment enroll(String deviceId, RelayKeyPair keys) {
        if (certificateLifetime == null) {
            return credential(ca, deviceId, keys);
        }
        Instant now = clock.instant();
        Duration backdate = certificateLifetime.dividedBy(10);
        return credential(ca, deviceId, keys, now.minus(backdate), now.plus(certificateLifetime));
    }

    /**
     * Device certificates from now on are valid for {@code lifetime}, and a renewal revokes the certificate it
     * replaces {@code grace} later (control's device-certificate-lifetime and -renewal-grace).
     */
    void certificateLifetime(Duration lifetime, Duration grace) {
        this.certificateLifetime = lifetime;
        this.renewalGrace = grace;
    }

    /** Whether certificates are short-lived (see {@link #certificateLifetime(Duration, Duration)}). */
    boolean shortLivedCertificates() {
        return certificateLifetime != null;
    }

    /**
     * A renewal, as control answers {@code POST /api/v1/devices/self/certificate}: a new certificate for the same
     * key, and {@code replaced} revoked after the grace period.
     */
    Enrollment renew(String deviceId, RelayKeyPair keys, BigInteger replaced) {
        Enrollment renewed = enroll(deviceId, keys);
        renewals++;
        simulation.scheduler().schedule(renewalGrace, () -> revoke(replaced));
        return renewed;
    }

    /** How many certificates were renewed. */
    int renewals() {
        return renewals;
    }

    /** The wall clock certificates are checked against. */
    VirtualWallClock clock() {
        return clock;
    }

    /** A well-formed device certificate from a CA the relay has never heard of. */
    static Enrollment enrollElsewhere(String deviceId, RelayKeyPair keys) {
        return credential(DeviceCertificateIssuer.create("another organization's CA", EPOCH), deviceId, keys);
    }

    private static Enrollment credential(DeviceCertificateIssuer issuer, String deviceId, RelayKeyPair keys) {
        return credential(issuer, deviceId, keys, EPOCH.minus(Duration.ofDays(1)), EPOCH.plus(Duration.ofDays(365)));
    }

    private static Enrollment credential(DeviceCertificateIssuer issuer, String deviceId, RelayKeyPair keys,
            Instant notBefore, Instant notAfter) {
        X509Certificate certificate = issuer.issue(deviceId, keys.publicKey(), notBefore, notAfter);
        try {
            return new Enrollment(new RelayCredential(keys, certificate.getEncoded()), certificate.getSerialNumber(),
                    "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'})
                            .encodeToString(certificate.getEncoded()) + "\n-----END CERTIFICATE-----\n");
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("a certificate just issued encodes", e);
        }
    }

    /** Adds the certificate serial of {@code credential}'s device to the relay's revocation list. */
    void revoke(BigInteger serial) {
        Set<BigInteger> next = new HashSet<>(revocations.serials());
        next.add(serial);
        revocations.replace(next);
    }

    /**
     * The relay process restarts: it says goodbye to every client, its socket and streams close, and after
     * {@code outage} a new process (new key, new challenge secret, no sessions) listens at the same address.
     */
    void restart(Duration outage) {
        stop(true);
        simulation.scheduler().schedule(outage, this::start);
    }

    /**
     * The relay process dies without a word: no goodbyes, its stream connections are reset, and after
     * {@code outage} a new process listens at the same address. UDP clients only find out when the new one
     * answers their next frame with "unauthenticated" (or when it stays silent past their dead-after time).
     */
    void crash(Duration outage) {
        stop(false);
        simulation.scheduler().schedule(outage, this::start);
    }

    /** The running relay, or empty while it is down. */
    Optional<RelayEngine> engine() {
        return Optional.ofNullable(engine);
    }

    /** How often the relay process has been started. */
    int starts() {
        return starts;
    }

    private void start() {
        if (engine != null) {
            return;
        }
        starts++;
        socket = host.bind(PORT);
        byte[] secret = new byte[32];
        simulation.scheduler().random().nextBytes(secret);
        RelayConfig config = RelayConfig.builder(new TrustAnchors(List.of(ca.caCertificate())))
                .udp(address)
                .tcp(address)
                .revocations(revocations)
                .time(clock, simulation.scheduler()::nowNanos)
                .build();
        VirtualTransport out = socket;
        engine = RelayEngine.create(config, new RelayMetrics(), RelayKeyPair.fromPrivateKey(secret),
                new SecureRandom(), address, new DatagramSender() {
                    @Override
                    public boolean writable() {
                        return !out.isClosed();
                    }

                    @Override
                    public boolean send(byte[] datagram, InetSocketAddress to) {
                        out.send(ByteBuffer.wrap(datagram), to);
                        return true;
                    }
                });
        RelayEngine running = engine;
        for (DatagramKind kind : DatagramKind.values()) {
            socket.register(kind, (datagram, sender) -> running.onDatagram(sender, datagram));
        }
        streams.listen(running);
        sweeper = simulation.executor().scheduleAtFixedRate(running::sweep, SWEEP_INTERVAL.toNanos(),
                SWEEP_INTERVAL.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void stop(boolean graceful) {
        if (engine == null) {
            return;
        }
        sweeper.cancel(false);
        if (graceful) {
            engine.closeAll();
        }
        streams.closeAll();
        socket.close();
        engine = null;
    }
}
