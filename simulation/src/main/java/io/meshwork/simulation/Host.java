package io.meshwork.simulation;

import io.meshwork.node.transport.TransportException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A machine on the virtual network: one site, one or more IPv4 addresses in it (the first is the one it
 * sends from unless a socket is bound to another), an access link, and UDP sockets.
 *
 * <p>A socket bound to a port alone receives on every address of the host and follows the host when it
 * moves to another site; a socket bound to one address receives only there and pins the host in place.
 */
public final class Host {

    /** Linux's default ephemeral port range (net.ipv4.ip_local_port_range). */
    private static final int FIRST_EPHEMERAL_PORT = 32768;
    private static final int LAST_EPHEMERAL_PORT = 60999;

    private final VirtualNetwork network;
    private final String name;
    private final Link link;
    private volatile Site site;
    private volatile List<InetAddress> addresses;
    private final Map<Integer, VirtualTransport> anyAddressSockets = new HashMap<>();
    private final Map<InetSocketAddress, VirtualTransport> oneAddressSockets = new HashMap<>();

    Host(VirtualNetwork network, String name, Site site, List<InetAddress> addresses, Link link) {
        this.network = network;
        this.name = name;
        this.site = site;
        this.addresses = List.copyOf(addresses);
        this.link = link;
    }

    public String name() {
        return name;
    }

    public Site site() {
        return site;
    }

    /** The address the host sends from. */
    public InetAddress address() {
        return addresses.get(0);
    }

    public List<InetAddress> addresses() {
        return addresses;
    }

    /** The host's access link to its site. */
    public Link link() {
        return link;
    }

    /**
     * Opens a socket on {@code port} of every address of the host; port 0 picks a free ephemeral port.
     *
     * @throws TransportException when the port is taken
     */
    public VirtualTransport bind(int port) {
        return bind(null, port);
    }

    /**
     * Opens a socket on one address of the host ({@code null}: all of them); port 0 picks a free ephemeral
     * port.
     *
     * @throws TransportException when the port is taken
     */
    public synchronized VirtualTransport bind(InetAddress address, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (address != null && !addresses.contains(address)) {
            throw new TransportException("cannot bind " + address.getHostAddress() + " on " + name
                    + ": not one of its addresses " + addresses, null);
        }
        int chosen = port == 0 ? ephemeralPort(address) : port;
        if (!isFree(address, chosen)) {
            throw new TransportException("cannot bind port " + chosen + " on " + name + ": already in use", null);
        }
        VirtualTransport transport = new VirtualTransport(network, this, address, chosen);
        if (address == null) {
            anyAddressSockets.put(chosen, transport);
        } else {
            oneAddressSockets.put(new InetSocketAddress(address, chosen), transport);
        }
        return transport;
    }

    /** Moves the host to {@code destination} with a fresh address there; its sockets keep their ports. */
    public void moveTo(Site destination) {
        network.moveHost(this, destination);
    }

    @Override
    public String toString() {
        return name + "@" + address().getHostAddress();
    }

    synchronized VirtualTransport socketFor(InetSocketAddress destination) {
        VirtualTransport exact = oneAddressSockets.get(destination);
        return exact != null ? exact : anyAddressSockets.get(destination.getPort());
    }

    synchronized void unbind(VirtualTransport transport) {
        if (transport.boundAddress() == null) {
            anyAddressSockets.remove(transport.port(), transport);
        } else {
            oneAddressSockets.remove(new InetSocketAddress(transport.boundAddress(), transport.port()), transport);
        }
    }

    synchronized boolean hasAddressBoundSockets() {
        return !oneAddressSockets.isEmpty();
    }

    /** The host's first global IPv6 address, when it has one. */
    public java.util.Optional<InetAddress> ipv6Address() {
        return addresses.stream().filter(address -> address instanceof java.net.Inet6Address).findFirst();
    }

    void addAddress(InetAddress address) {
        List<InetAddress> more = new java.util.ArrayList<>(addresses);
        more.add(address);
        addresses = List.copyOf(more);
    }

    void removeAddress(InetAddress address) {
        List<InetAddress> fewer = new java.util.ArrayList<>(addresses);
        fewer.remove(address);
        addresses = List.copyOf(fewer);
    }

    void relocate(Site newSite, InetAddress newAddress) {
        site = newSite;
        addresses = List.of(newAddress);
    }

    private boolean isFree(InetAddress address, int port) {
        if (anyAddressSockets.containsKey(port)) {
            return false;
        }
        if (address != null) {
            return !oneAddressSockets.containsKey(new InetSocketAddress(address, port));
        }
        return oneAddressSockets.keySet().stream().noneMatch(bound -> bound.getPort() == port);
    }

    private int ephemeralPort(InetAddress address) {
        int range = LAST_EPHEMERAL_PORT - FIRST_EPHEMERAL_PORT + 1;
        int start = network.scheduler().random().nextInt(range);
        for (int offset = 0; offset < range; offset++) {
            int port = FIRST_EPHEMERAL_PORT + (start + offset) % range;
            if (isFree(address, port)) {
                return port;
            }
        }
        throw new TransportException("no free ephemeral port on " + name, null);
    }
}
