package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.PortMapProtocol;
import io.meshwork.protocol.portmap.Pcp;
import io.meshwork.protocol.portmap.ServerEpoch;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PCP MAP (RFC 6887 §11) for the WireGuard port: a random nonce per mapping, checked in every reply and reused to
 * renew and delete; the external port asked is the internal one (or the one held), the gateway may grant another.
 */
final class PcpClient implements MappingClient {

    private static final Logger log = LoggerFactory.getLogger(PcpClient.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Duration timeout;
    private final DropCounter drops;
    private final Clock clock;
    /** The server's port: {@value Pcp#SERVER_PORT} but in tests. */
    private final int serverPort;

    PcpClient(Duration timeout, DropCounter drops, Clock clock) {
        this(timeout, drops, clock, Pcp.SERVER_PORT);
    }

    PcpClient(Duration timeout, DropCounter drops, Clock clock, int serverPort) {
        this.timeout = timeout;
        this.drops = drops;
        this.clock = clock;
        this.serverPort = serverPort;
    }

    @Override
    public PortMapProtocol protocol() {
        return PortMapProtocol.PCP;
    }

    @Override
    public Optional<Lease> map(InetAddress gateway, int internalPort, Duration lifetime, Lease previous)
            throws IOException {
        InetAddress client = GatewayDatagrams.localAddressTowards(gateway, serverPort);
        byte[] nonce = previous != null ? previous.nonce() : randomNonce();
        int suggestedPort = previous != null ? previous.mapping().external().getPort() : internalPort;
        InetAddress suggestedAddress = previous != null ? previous.mapping().external().getAddress() : null;
        byte[] request = Pcp.mapRequest(client, nonce, internalPort, suggestedPort, suggestedAddress,
                lifetime.toSeconds());
        Optional<Pcp.Response> reply = GatewayDatagrams.exchange(new InetSocketAddress(gateway, serverPort),
                request, timeout, (bytes, length) -> mapReply(bytes, length, nonce), drops, "PCP reply");
        if (reply.isEmpty()) {
            return Optional.empty();
        }
        Pcp.Response response = reply.get();
        if (!response.success() || response.lifetimeSeconds() == 0) {
            log.info("the gateway {} refused a PCP mapping of port {}: result code {}", gateway.getHostAddress(),
                    internalPort, response.resultCode());
            return Optional.empty();
        }
        Duration granted = Duration.ofSeconds(response.lifetimeSeconds());
        PortMapping mapping = new PortMapping(PortMapProtocol.PCP, gateway,
                new InetSocketAddress(response.externalAddress(), response.externalPort()), internalPort,
                clock.instant().plus(granted));
        return Optional.of(new Lease(mapping, granted, client, nonce, observation(response), null));
    }

    @Override
    public boolean stillValid(Lease lease) throws IOException {
        InetAddress gateway = lease.mapping().gateway();
        byte[] request = Pcp.announceRequest(lease.internalClient());
        Optional<Pcp.Response> reply = GatewayDatagrams.exchange(new InetSocketAddress(gateway, serverPort),
                request, timeout, (bytes, length) -> {
                    Pcp.Response response = Pcp.parseResponse(bytes, length);
                    return response.opcode() == Pcp.OPCODE_ANNOUNCE ? response : null;
                }, drops, "PCP reply");
        // No answer says nothing of the mapping: the renewal will tell.
        return reply.isEmpty() || !ServerEpoch.lostState(lease.epoch(), observation(reply.get()));
    }

    @Override
    public void delete(Lease lease) throws IOException {
        byte[] request = Pcp.mapRequest(lease.internalClient(), lease.nonce(), lease.mapping().internalPort(), 0,
                null, 0);
        GatewayDatagrams.exchange(new InetSocketAddress(lease.mapping().gateway(), serverPort), request, timeout,
                (bytes, length) -> mapReply(bytes, length, lease.nonce()), drops, "PCP reply");
    }

    /** A MAP reply carrying {@code nonce}; one with another nonce answers another request and is dropped. */
    private Pcp.Response mapReply(byte[] bytes, int length, byte[] nonce)
            throws io.meshwork.protocol.portmap.PortMapParseException {
        Pcp.Response response = Pcp.parseResponse(bytes, length);
        if (response.opcode() != Pcp.OPCODE_MAP) {
            return null;
        }
        if (!response.nonceMatches(nonce)) {
            drops.drop(DropCounter.Reason.NONCE_MISMATCH, "PCP reply", "nonce does not match the request's");
            return null;
        }
        return response;
    }

    private ServerEpoch.Observation observation(Pcp.Response response) {
        return new ServerEpoch.Observation(response.epochSeconds(), System.nanoTime() / 1_000_000_000L);
    }

    private static byte[] randomNonce() {
        byte[] nonce = new byte[Pcp.NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        return nonce;
    }
}
