package io.meshwork.simulation;

import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.stun.StunResponder;
import io.meshwork.protocol.stun.StunServerAddresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real STUN server logic ({@link StunResponder}) on virtual sockets: a public host with one address, or
 * with two for an RFC 5780 server whose four sockets answer CHANGE-REQUEST from the alternate IP and port,
 * as the relay's own server and coturn do.
 */
public final class SimStunServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SimStunServer.class);

    /** RFC 8489 §18.1: the default port of STUN over UDP. */
    public static final int DEFAULT_PORT = 3478;

    private final Host host;
    private final StunResponder responder;
    private final Map<InetSocketAddress, VirtualTransport> sockets = new LinkedHashMap<>();
    private final Map<StunResponder.DropReason, Long> dropped = new EnumMap<>(StunResponder.DropReason.class);
    private long answered;

    private SimStunServer(Host host, StunServerAddresses addresses) {
        this.host = host;
        this.responder = new StunResponder(addresses, "meshwork-sim");
        for (InetSocketAddress socket : addresses.sockets()) {
            VirtualTransport transport = host.bind(socket.getAddress(), socket.getPort());
            sockets.put(socket, transport);
            transport.register(DatagramKind.STUN, (datagram, sender) -> handle(datagram, sender, socket));
            // RFC 3489 requests carry no magic cookie, so they do not classify as STUN; the responder knows them.
            transport.register(DatagramKind.UNKNOWN, (datagram, sender) -> handle(datagram, sender, socket));
        }
    }

    /** A server with one socket at {@code ip}:{@code port} on a new public host. */
    public static SimStunServer single(VirtualNetwork network, String hostName, String ip, int port) {
        Host host = network.addPublicHost(hostName, ip);
        return new SimStunServer(host, StunServerAddresses.single(host.address(), port));
    }

    /**
     * A server with one socket on the IPv6 address of a new public host (IPv4 {@code ip}, IPv6 the internet's next
     * one), as a relay's {@code --stun6}: it tells clients their IPv6 reflexive endpoints.
     */
    public static SimStunServer ipv6(VirtualNetwork network, String hostName, String ip, int port) {
        Host host = network.addPublicHost(hostName, ip);
        InetAddress v6 = network.addIpv6(host);
        return new SimStunServer(host, StunServerAddresses.single(v6, port));
    }

    /** An RFC 5780 server on a new public host with both IPs, listening on ports {@code port} and {@code port + 1}. */
    public static SimStunServer rfc5780(VirtualNetwork network, String hostName, String primaryIp,
            String alternateIp, int port) {
        Host host = network.addPublicHost(hostName, primaryIp, alternateIp);
        return new SimStunServer(host, StunServerAddresses.rfc5780(host.addresses().get(0),
                host.addresses().get(1), port));
    }

    public Host host() {
        return host;
    }

    public StunServerAddresses addresses() {
        return responder.addresses();
    }

    /** Where clients send their first request. */
    public InetSocketAddress primary() {
        return responder.addresses().primary();
    }

    /** The alternate IP, when this is an RFC 5780 server. */
    public Optional<InetAddress> alternateIp() {
        return responder.addresses().alternateIp();
    }

    /** Requests answered with a success or an error response. */
    public synchronized long answered() {
        return answered;
    }

    /** Datagrams dropped for {@code reason}. */
    public synchronized long dropped(StunResponder.DropReason reason) {
        return dropped.getOrDefault(reason, 0L);
    }

    private synchronized void handle(ByteBuffer datagram, InetSocketAddress sender, InetSocketAddress local) {
        StunResponder.Outcome outcome = responder.respond(datagram, sender, local);
        if (outcome instanceof StunResponder.Drop drop) {
            dropped.merge(drop.reason(), 1L, Long::sum);
            log.debug("dropped datagram from {} on {}: {} {}", sender, local, drop.reason(), drop.detail());
        } else if (outcome instanceof StunResponder.Reply reply) {
            answered++;
            sockets.get(reply.from()).send(ByteBuffer.wrap(reply.datagram()), reply.to());
        }
    }

    @Override
    public void close() {
        sockets.values().forEach(VirtualTransport::close);
    }
}
