package io.meshwork.lab;

import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.net.Prefix;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A network lab made of Linux network namespaces: an "internet" namespace holding a bridge on
 * {@value #INTERNET_CIDR}, public hosts attached to it, and NAT {@link Site sites} behind iptables gateways.
 *
 * <p>Every namespace is named {@code TAG-...}, so labs with different tags can run side by side; creating a
 * lab first removes namespaces left behind by an earlier run with the same tag. All addresses live only inside
 * these namespaces: nothing is added to the machine's own network. Closing the lab stops its processes and
 * deletes its namespaces (with every veth in them), also after a failed test; a shutdown hook does the same
 * if the JVM exits first (Ctrl-C, say). Its working {@link #directory() directory} holds logs and every node's
 * state, private keys included: only root can read it, and it is removed on close as well unless the lab was
 * created to keep it. Needs root: see {@link LabSupport}.
 *
 * <pre>{@code
 * try (Lab lab = Lab.create("nc")) {
 *     Host stun = lab.publicHost("stun", "203.0.113.10", "203.0.113.11");
 *     Site home = lab.site("home", NatKind.ENDPOINT_INDEPENDENT);
 *     Host laptop = home.host("laptop");
 *     laptop.ping(stun.address(), 1);
 * }
 * }</pre>
 */
public final class Lab implements AutoCloseable {

    /** The lab's internet: TEST-NET-3 (RFC 5737), never routed anywhere real. */
    public static final String INTERNET_CIDR = "203.0.113.0/24";
    /**
     * Public addresses of {@link #portMappingSite port-mapping gateways}: miniupnpd refuses to map ports on a
     * reserved external address (RFC 5737's included), so these gateways get addresses from this prefix instead,
     * routed on the lab's internet bridge like {@value #INTERNET_CIDR} and, like it, only inside the lab's namespaces.
     */
    public static final String PORT_MAPPING_CIDR = "192.0.3.0/24";

    /**
     * The lab's IPv6 internet (opt-in, {@link Ipv6}): a /64 of the documentation prefix 2001:db8::/32 (RFC 3849) on
     * the internet bridge; a site with {@link Ipv6#ROUTED} gets {@code 2001:db8:S::/64} on its LAN, routed by its
     * gateway. Only inside the lab's namespaces, like every other lab address.
     */
    public static final String IPV6_INTERNET_CIDR = "2001:db8::/64";

    /** Whether a site has IPv6 besides its IPv4 NAT. */
    public enum Ipv6 {
        /** IPv4 only, behind the NAT. */
        NONE,
        /**
         * A routed global /64 on the LAN ({@code 2001:db8:S::/64}, each host at a static address, no SLAAC), the
         * gateway at {@code 2001:db8::S:1} on the IPv6 internet with a stateful firewall on its FORWARD chain, as home
         * routers and mobile networks have: what the LAN sends out and the replies pass; new connections from outside
         * are dropped.
         */
        ROUTED
    }

    private static final Logger log = LoggerFactory.getLogger(Lab.class);
    private static final Pattern TAG = Pattern.compile("[a-z][a-z0-9]{0,5}");
    private static final int FIRST_GATEWAY_OCTET = 200;
    /** Provider routers of {@link NatKind#behindProviderRouter() such gateways}: 203.0.113.150 and up. */
    private static final int FIRST_ROUTER_OCTET = 150;
    /** Owner only: the directory holds nodes' private keys and device tokens. */
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    /** What closing the lab does with its working directory. */
    public enum WorkDirectory {
        /** Leave it, for post-mortems of a test or a look around after the demo. */
        KEEP,
        /** Remove it with everything in it, once every process of the lab has stopped. */
        REMOVE
    }

    private final String tag;
    private final String internetNamespace;
    private final Path directory;
    private final WorkDirectory afterClose;
    private final List<String> namespaces = new ArrayList<>();
    private final List<LabProcess> processes = new ArrayList<>();
    private final List<Site> sites = new ArrayList<>();
    /** Namespaces on the internet bridge, and the prefixes besides {@link #INTERNET_CIDR} each must route there. */
    private final List<String> internetNamespaces = new ArrayList<>();
    private final List<String> internetPrefixes = new ArrayList<>();
    /** Namespaces with an address on the IPv6 internet, and each routed site's LAN /64 with its gateway's address. */
    private final List<String> ipv6Namespaces = new ArrayList<>();
    private final List<String[]> ipv6Routes = new ArrayList<>();
    /** Files outside the working directory (a namespace's {@code /etc/netns/NAME/resolv.conf}), removed on close. */
    private final List<Path> outsideFiles = new ArrayList<>();
    private final AtomicInteger serial = new AtomicInteger();
    private final Thread shutdownHook = new Thread(this::teardown, "lab-teardown");
    private boolean closed;

    private Lab(String tag, Path directory, WorkDirectory afterClose) {
        this.tag = tag;
        this.internetNamespace = tag + "-inet";
        this.directory = directory;
        this.afterClose = afterClose;
    }

    /**
     * Creates a lab whose namespaces all start with {@code tag} (a lowercase letter then up to five
     * letters or digits); its working directory stays after close, for post-mortems.
     */
    public static Lab create(String tag) {
        return create(tag, WorkDirectory.KEEP);
    }

    /** Creates a lab as {@link #create(String)} does, its working directory kept or removed on close. */
    public static Lab create(String tag, WorkDirectory afterClose) {
        if (!TAG.matcher(tag).matches()) {
            throw new IllegalArgumentException("lab tag must match " + TAG + ": " + tag);
        }
        removeLeftovers(tag);
        Path directory;
        try {
            // Private from the moment it exists: set at creation, there is no instant another user could open it.
            directory = Files.createTempDirectory("meshwork-lab-" + tag + "-", OWNER_ONLY);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Lab lab = new Lab(tag, directory, afterClose);
        Runtime.getRuntime().addShutdownHook(lab.shutdownHook);
        try {
            lab.addNamespace(lab.internetNamespace);
            lab.ip(lab.internetNamespace, "link", "add", "br0", "type", "bridge");
            lab.ip(lab.internetNamespace, "link", "set", "br0", "up");
            return lab;
        } catch (RuntimeException e) {
            lab.close();
            throw e;
        }
    }

    /**
     * Where logs, configuration and node state of this lab go; only its owner can read it. Kept after close or
     * removed, as the lab was created.
     */
    public Path directory() {
        return directory;
    }

    public String tag() {
        return tag;
    }

    /**
     * A host directly on the internet (no NAT) with one or more addresses from {@value #INTERNET_CIDR};
     * the first is its {@link Host#address()}.
     */
    public synchronized Host publicHost(String name, String... addresses) {
        if (addresses.length == 0) {
            throw new IllegalArgumentException("a public host needs at least one address");
        }
        String namespace = namespaceFor(name);
        addNamespace(namespace);
        attachToInternet(namespace, addresses);
        return new Host(this, name, namespace, addresses[0]);
    }

    /** A NAT gateway with the given behaviour and an empty LAN; add hosts with {@link Site#host}. */
    public synchronized Site site(String name, NatKind kind) {
        int index = sites.size() + 1;
        String namespace = namespaceFor(name);
        String publicAddress = "203.0.113." + (FIRST_GATEWAY_OCTET + index);
        addNamespace(namespace);
        if (kind.behindProviderRouter()) {
            attachThroughRouter(name, namespace, publicAddress, index);
        } else {
            attachToInternet(namespace, publicAddress);
        }
        return addGateway(name, kind, index, new Host(this, name, namespace, publicAddress));
    }

    /**
     * A NAT gateway as {@link #site(String, NatKind)} makes it, with IPv6 as {@code ipv6} says: with
     * {@link Ipv6#ROUTED} the site's hosts also get global IPv6 addresses behind a stateful firewall.
     */
    public synchronized Site site(String name, NatKind kind, Ipv6 ipv6) {
        if (ipv6 == Ipv6.ROUTED && kind.behindProviderRouter()) {
            throw new IllegalArgumentException("IPv6 sites sit on the internet bridge; " + kind + " does not");
        }
        Site site = site(name, kind);
        if (ipv6 == Ipv6.ROUTED) {
            routeIpv6(site);
        }
        return site;
    }

    /**
     * Gives {@code host}, a {@link #publicHost public host}, the IPv6 address {@code address} from
     * {@value #IPV6_INTERNET_CIDR}, with routes to every IPv6 site; returns the host.
     */
    public synchronized Host addIpv6(Host host, String address) {
        if (!Prefix.parse(IPV6_INTERNET_CIDR).contains(IpLiteral.parse(address))) {
            throw new IllegalArgumentException(address + " is not in " + IPV6_INTERNET_CIDR);
        }
        ip(host.namespace(), "-6", "addr", "add", address + "/64", "dev", "eth0", "nodad");
        joinIpv6Internet(host.namespace());
        host.ipv6Address(address);
        return host;
    }

    /** Routes every IPv6 site's /64 from {@code namespace}, which is on the IPv6 internet now. */
    private void joinIpv6Internet(String namespace) {
        ipv6Namespaces.add(namespace);
        for (String[] route : ipv6Routes) {
            ip(namespace, "-6", "route", "add", route[0], "via", route[1]);
        }
    }

    /**
     * Gives the site's gateway an address on the IPv6 internet and {@code 2001:db8:S::1/64} on its LAN, forwarding
     * with a stateful ip6tables firewall, and routes the LAN's /64 to it from every namespace on the IPv6 internet.
     */
    private void routeIpv6(Site site) {
        String namespace = site.gateway().namespace();
        String outside = site.ipv6PublicAddress();
        ip(namespace, "-6", "addr", "add", outside + "/64", "dev", "eth0", "nodad");
        ip(namespace, "-6", "addr", "add", site.ipv6LanGatewayAddress() + "/64", "dev", "br0", "nodad");
        inNamespace(namespace, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
        for (List<String> rule : List.of(
                List.of("-P", "FORWARD", "DROP"),
                List.of("-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"),
                List.of("-A", "FORWARD", "-i", "br0", "-o", "eth0", "-j", "ACCEPT"),
                List.of("-A", "INPUT", "-i", "eth0", "-p", "ipv6-icmp", "-j", "ACCEPT"),
                List.of("-A", "INPUT", "-i", "eth0", "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP"))) {
            List<String> command = new ArrayList<>(List.of("ip6tables"));
            command.addAll(rule);
            inNamespace(namespace, command.toArray(String[]::new));
        }
        site.gateway().ipv6Address(outside);
        String[] route = {site.ipv6Cidr(), outside};
        for (String onInternet : ipv6Namespaces) {
            ip(onInternet, "-6", "route", "add", route[0], "via", route[1]);
        }
        joinIpv6Internet(namespace);
        ipv6Routes.add(route);
        site.routedIpv6();
    }

    /**
     * Connects a gateway to the internet through a router namespace of its own ({@code TAG-NAME-isp}, at
     * {@code 203.0.113.(FIRST_ROUTER_OCTET + index)} on the bridge), as a provider's first hop: the router answers
     * ARP on the bridge for the gateway's public address (proxy ARP) and forwards to it over a point-to-point veth,
     * so every packet between the gateway and the rest of the lab crosses one more hop (TTL decremented).
     */
    private void attachThroughRouter(String name, String gatewayNamespace, String publicAddress, int index) {
        String router = namespaceFor(name + "-isp");
        addNamespace(router);
        attachToInternet(router, "203.0.113." + (FIRST_ROUTER_OCTET + index));
        String routerEnd = "g" + serial.incrementAndGet();
        ip(null, "link", "add", "name", "eth0", "netns", gatewayNamespace, "type", "veth",
                "peer", "name", routerEnd, "netns", router);
        ip(router, "link", "set", routerEnd, "up");
        inNamespace(router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        inNamespace(router, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.proxy_arp=1");
        inNamespace(router, "sysctl", "-q", "-w", "net.ipv4.conf." + routerEnd + ".proxy_arp=1");
        // Proxied ARP answers wait up to 0.8 s by default; a router's own answers do not.
        inNamespace(router, "sysctl", "-q", "-w", "net.ipv4.neigh.eth0.proxy_delay=0");
        inNamespace(router, "sysctl", "-q", "-w", "net.ipv4.neigh." + routerEnd + ".proxy_delay=0");
        ip(router, "route", "add", publicAddress + "/32", "dev", routerEnd);
        ip(gatewayNamespace, "addr", "add", publicAddress + "/24", "dev", "eth0");
        ip(gatewayNamespace, "link", "set", "eth0", "up");
        // Other prefixes on the internet (port-mapping gateways') are on-link for the gateway as well: the router
        // answers its ARP for them too.
        internetNamespaces.add(gatewayNamespace);
        for (String prefix : internetPrefixes) {
            ip(gatewayNamespace, "route", "add", prefix, "dev", "eth0");
        }
    }

    /**
     * A NAT gateway with the given behaviour that can run miniupnpd ({@link PortMappingGateway}): its public address
     * is from {@value #PORT_MAPPING_CIDR}, which every host on the internet routes on the bridge, and its rules are
     * written with {@code iptables-legacy}, the backend of Debian's {@code miniupnpd-iptables}, so that its NAT and
     * miniupnpd's chains are in the same tables.
     */
    public synchronized Site portMappingSite(String name, NatKind kind) {
        int index = sites.size() + 1;
        String namespace = namespaceFor(name);
        String publicAddress = PORT_MAPPING_CIDR.substring(0, PORT_MAPPING_CIDR.lastIndexOf('.') + 1)
                + (FIRST_GATEWAY_OCTET + index);
        if (!internetPrefixes.contains(PORT_MAPPING_CIDR)) {
            internetPrefixes.add(PORT_MAPPING_CIDR);
            for (String onInternet : internetNamespaces) {
                ip(onInternet, "route", "add", PORT_MAPPING_CIDR, "dev", "eth0");
            }
        }
        addNamespace(namespace);
        attachToInternet(namespace, publicAddress);
        ip(namespace, "route", "add", INTERNET_CIDR, "dev", "eth0", "src", publicAddress);
        return addGateway(name, kind, index, new Host(this, name, namespace, publicAddress), "iptables-legacy");
    }

    /**
     * A NAT gateway whose uplink is a host on {@code outer}'s LAN: hosts of this site are behind two NATs, as
     * behind a carrier-grade NAT (the outer site) and a home router (this one). Its {@link Site#publicAddress()} is
     * its address on the outer LAN.
     */
    public synchronized Site siteBehind(Site outer, String name, NatKind kind) {
        int index = sites.size() + 1;
        Host uplink = outer.host(name);
        return addGateway(name, kind, index, uplink);
    }

    /** Turns {@code gateway} into a NAT gateway for a new LAN {@code 10.index.0.0/24} behind its eth0. */
    private Site addGateway(String name, NatKind kind, int index, Host gateway) {
        return addGateway(name, kind, index, gateway, "iptables");
    }

    /** As {@link #addGateway(String, NatKind, int, Host)}, writing the rules with the given iptables command. */
    private Site addGateway(String name, NatKind kind, int index, Host gateway, String iptables) {
        String namespace = gateway.namespace();
        ip(namespace, "link", "add", "br0", "type", "bridge");
        ip(namespace, "addr", "add", "10." + index + ".0.1/24", "dev", "br0");
        ip(namespace, "link", "set", "br0", "up");
        inNamespace(namespace, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        for (List<String> rule : kind.iptablesRules()) {
            List<String> command = new ArrayList<>(List.of(iptables));
            command.addAll(rule);
            inNamespace(namespace, command.toArray(String[]::new));
        }
        Site site = new Site(this, name, kind, index, gateway);
        sites.add(site);
        return site;
    }

    synchronized Host attachToSite(Site site, String hostName, String address) {
        String namespace = namespaceFor(site.name() + "-" + hostName);
        addNamespace(namespace);
        String gatewayEnd = "h" + serial.incrementAndGet();
        ip(null, "link", "add", "name", "eth0", "netns", namespace, "type", "veth",
                "peer", "name", gatewayEnd, "netns", site.gateway().namespace());
        ip(site.gateway().namespace(), "link", "set", gatewayEnd, "master", "br0", "up");
        ip(namespace, "addr", "add", address + "/24", "dev", "eth0");
        ip(namespace, "link", "set", "eth0", "up");
        ip(namespace, "route", "add", "default", "via", site.lanGatewayAddress());
        Host host = new Host(this, hostName, namespace, address);
        String ipv6 = site.ipv6HostAddress(address);
        if (ipv6 != null) {
            ip(namespace, "-6", "addr", "add", ipv6 + "/64", "dev", "eth0", "nodad");
            ip(namespace, "-6", "route", "add", "default", "via", site.ipv6LanGatewayAddress());
            host.ipv6Address(ipv6);
        }
        return host;
    }

    private void attachToInternet(String namespace, String... addresses) {
        String bridgeEnd = "p" + serial.incrementAndGet();
        ip(null, "link", "add", "name", "eth0", "netns", namespace, "type", "veth",
                "peer", "name", bridgeEnd, "netns", internetNamespace);
        ip(internetNamespace, "link", "set", bridgeEnd, "master", "br0", "up");
        for (String address : addresses) {
            ip(namespace, "addr", "add", address + "/24", "dev", "eth0");
        }
        ip(namespace, "link", "set", "eth0", "up");
        internetNamespaces.add(namespace);
        for (String prefix : internetPrefixes) {
            Prefix routed = Prefix.parse(prefix);
            if (Stream.of(addresses).noneMatch(address -> routed.contains(IpLiteral.parse(address)))) {
                ip(namespace, "route", "add", prefix, "dev", "eth0");
            }
        }
    }

    private String namespaceFor(String name) {
        return tag + "-" + name;
    }

    private void addNamespace(String namespace) {
        Shell.run(List.of("ip", "netns", "add", namespace)).orThrow();
        namespaces.add(namespace);
        ip(namespace, "link", "set", "lo", "up");
    }

    private void ip(String namespace, String... args) {
        List<String> command = new ArrayList<>();
        command.add("ip");
        if (namespace != null) {
            command.add("-n");
            command.add(namespace);
        }
        command.addAll(List.of(args));
        Shell.run(command).orThrow();
    }

    private void inNamespace(String namespace, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        Shell.run(full).orThrow();
    }

    synchronized void track(LabProcess process) {
        processes.add(process);
    }

    synchronized void trackFile(Path file) {
        outsideFiles.add(file);
    }

    int nextSerial() {
        return serial.incrementAndGet();
    }

    @Override
    public void close() {
        teardown();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or has run; teardown is idempotent.
        }
    }

    private synchronized void teardown() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = processes.size() - 1; i >= 0; i--) {
            processes.get(i).stop();
        }
        for (int i = namespaces.size() - 1; i >= 0; i--) {
            String namespace = namespaces.get(i);
            killProcessesIn(namespace);
            ExecResult result = Shell.run(List.of("ip", "netns", "del", namespace));
            if (!result.succeeded()) {
                log.warn("could not delete namespace {}: {}", namespace, result.stderr().strip());
            }
        }
        for (Path file : outsideFiles) {
            try {
                Files.deleteIfExists(file);
                Files.deleteIfExists(file.getParent());
            } catch (IOException e) {
                log.warn("could not remove {}: {}", file, e.toString());
            }
        }
        if (afterClose == WorkDirectory.REMOVE) {
            removeDirectory();
        }
    }

    /** Deletes the working directory, deepest entries first; runs after the processes writing to it stopped. */
    private void removeDirectory() {
        try (Stream<Path> entries = Files.walk(directory)) {
            for (Path entry : entries.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(entry);
            }
        } catch (IOException | UncheckedIOException e) {
            log.warn("could not remove the lab directory {}: {}", directory, e.toString());
        }
    }

    private static void removeLeftovers(String tag) {
        ExecResult list = Shell.run(List.of("ip", "netns", "list"));
        list.stdout().lines()
                .map(line -> line.split("\\s+")[0])
                .filter(namespace -> namespace.startsWith(tag + "-"))
                .forEach(namespace -> {
                    killProcessesIn(namespace);
                    Shell.run(List.of("ip", "netns", "del", namespace));
                });
    }

    /** Processes started inside a namespace by anyone (daemons that forked, say) would keep it alive. */
    private static void killProcessesIn(String namespace) {
        Shell.run(List.of("ip", "netns", "pids", namespace)).stdout().lines()
                .filter(line -> !line.isBlank())
                .forEach(pid -> Shell.run(List.of("kill", "-9", pid.strip())));
    }
}
