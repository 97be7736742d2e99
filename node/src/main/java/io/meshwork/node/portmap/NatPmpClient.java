package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.NatPmp;
import io.meshwork.protocol.portmap.PortMapProtocol;
import io.meshwork.protocol.portmap.ServerEpoch;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NAT-PMP (RFC 6886) for the WireGuard port: the external address request (§3.2), then a UDP mapping request
 * (§3.3) asking for the internal port (or the one held) outside; lifetime 0 deletes (§3.4).
 */
final class NatPmpClient implements MappingClient {

    private static final Logger log = LoggerFactory.getLogger(NatPmpClient.class);

    private final Duration timeout;
    private final DropCounter drops;
    private final Clock clock;
    /** The server's port: {@value NatPmp#SERVER_PORT} but in tests. */
    private final int serverPort;

    NatPmpClient(Duration timeout, DropCounter drops, Clock clock) {
        this(timeout, drops, clock, NatPmp.SERVER_PORT);
    }

    NatPmpClient(Duration timeout, DropCounter drops, Clock clock, int serverPort) {
        this.timeout = timeout;
        this.drops = drops;
        this.clock = clock;
        this.serverPort = serverPort;
    }

    @Override
    public PortMapProtocol protocol() {
        return PortMapProtocol.NAT_PMP;
    }

    @Override
    public Optional<Lease> map(InetAddress gateway, int internalPort, Duration lifetime, Lease previous)
            throws IOException {
        InetSocketAddress server = new InetSocketAddress(gateway, serverPort);
        Optional<NatPmp.Response> address = externalAddress(server);
        if (address.isEmpty()) {
            return Optional.empty();
        }
        if (!address.get().success()) {
            log.info("the gateway {} answered the NAT-PMP address request with result code {}",
                    gateway.getHostAddress(), address.get().resultCode());
            return Optional.empty();
        }
        int suggested = previous != null ? previous.mapping().external().getPort() : internalPort;
        Optional<NatPmp.Response> reply = GatewayDatagrams.exchange(server,
                NatPmp.mapUdpRequest(internalPort, suggested, lifetime.toSeconds()), timeout,
                (bytes, length) -> mappingReply(bytes, length, internalPort), drops, "NAT-PMP reply");
        if (reply.isEmpty()) {
            return Optional.empty();
        }
        NatPmp.Response response = reply.get();
        if (!response.success() || response.lifetimeSeconds() == 0 || response.externalPort() == 0) {
            log.info("the gateway {} refused a NAT-PMP mapping of port {}: result code {}", gateway.getHostAddress(),
                    internalPort, response.resultCode());
            return Optional.empty();
        }
        Duration granted = Duration.ofSeconds(response.lifetimeSeconds());
        PortMapping mapping = new PortMapping(PortMapProtocol.NAT_PMP, gateway,
                new InetSocketAddress(address.get().externalAddress(), response.externalPort()), internalPort,
                clock.instant().plus(granted));
        InetAddress client = GatewayDatagrams.localAddressTowards(gateway, serverPort);
        return Optional.of(new Lease(mapping, granted, client, null, observation(response), null));
    }

    @Override
    public boolean stillValid(Lease lease) throws IOException {
        Optional<NatPmp.Response> reply = externalAddress(
                new InetSocketAddress(lease.mapping().gateway(), serverPort));
        return reply.isEmpty() || !ServerEpoch.lostState(lease.epoch(), observation(reply.get()));
    }

    @Override
    public void delete(Lease lease) throws IOException {
        int port = lease.mapping().internalPort();
        GatewayDatagrams.exchange(new InetSocketAddress(lease.mapping().gateway(), serverPort),
                NatPmp.mapUdpRequest(port, 0, 0), timeout, (bytes, length) -> mappingReply(bytes, length, port),
                drops, "NAT-PMP reply");
    }

    private Optional<NatPmp.Response> externalAddress(InetSocketAddress server) throws IOException {
        return GatewayDatagrams.exchange(server, NatPmp.externalAddressRequest(), timeout,
                (bytes, length) -> NatPmp.parseResponse(bytes, length, NatPmp.OPCODE_EXTERNAL_ADDRESS), drops,
                "NAT-PMP reply");
    }

    /** The reply for {@code internalPort}; a reply about another port answers another request. */
    private static NatPmp.Response mappingReply(byte[] bytes, int length, int internalPort)
            throws io.meshwork.protocol.portmap.PortMapParseException {
        NatPmp.Response response = NatPmp.parseResponse(bytes, length, NatPmp.OPCODE_MAP_UDP);
        return !response.success() || response.internalPort() == internalPort ? response : null;
    }

    private static ServerEpoch.Observation observation(NatPmp.Response response) {
        return new ServerEpoch.Observation(response.epochSeconds(), System.nanoTime() / 1_000_000_000L);
    }
}
