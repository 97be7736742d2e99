package io.meshwork.node.agent;

import io.meshwork.protocol.net.IpLiteral;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's addresses on interfaces that are up, neither loopback nor point-to-point: the node's {@code local}
 * endpoints (docs/architecture.md, "Node", endpoint discovery, and "IPv6 paths"). IPv4 addresses of every kind;
 * IPv6 addresses only when global unicast ({@code 2000::/3}) and usable now: link-local, unique-local
 * ({@code fc00::/7}), deprecated, tentative and failed-duplicate-detection addresses are left out, since no peer
 * across the internet can reach them (or, for a deprecated one, will for long).
 */
final class LocalAddresses {

    private static final Logger log = LoggerFactory.getLogger(LocalAddresses.class);
    /** The kernel's list of IPv6 interface addresses with their flags (absent when IPv6 is off). */
    private static final Path IF_INET6 = Path.of("/proc/net/if_inet6");
    /** Address flags (include/uapi/linux/if_addr.h) that make an address no endpoint. */
    static final int IFA_F_DADFAILED = 0x08;
    static final int IFA_F_DEPRECATED = 0x20;
    static final int IFA_F_TENTATIVE = 0x40;
    /** Most IPv6 addresses listed per host: a handful of prefixes with temporary addresses each. */
    static final int MAX_IPV6 = 8;

    private LocalAddresses() {}

    /** The addresses as literals; empty (logged at debug) when the interfaces cannot be listed. */
    static List<String> ipv4() {
        try {
            return list();
        } catch (IOException e) {
            log.debug("cannot list local addresses: {}", e.toString());
            return List.of();
        }
    }

    /** {@link #ipv4()} followed by {@link #globalIpv6()}. */
    static List<String> all() {
        List<String> addresses = new ArrayList<>(ipv4());
        addresses.addAll(globalIpv6());
        return addresses;
    }

    /**
     * The host's global IPv6 addresses that are usable now (see the class comment), in a stable order; empty when
     * the host has none or IPv6 is off. Read from {@code /proc/net/if_inet6}, which has the flags; where it cannot be
     * read, from the JDK's interface list (which does not tell deprecated addresses apart).
     */
    static List<String> globalIpv6() {
        Set<String> up;
        try {
            up = upInterfaces();
        } catch (IOException e) {
            log.debug("cannot list interfaces: {}", e.toString());
            return List.of();
        }
        if (Files.isReadable(IF_INET6)) {
            try {
                return globalIpv6(Files.readString(IF_INET6), up);
            } catch (IOException e) {
                log.debug("cannot read {}: {}", IF_INET6, e.toString());
            }
        }
        try {
            return globalIpv6FromJdk(up);
        } catch (IOException e) {
            log.debug("cannot list local IPv6 addresses: {}", e.toString());
            return List.of();
        }
    }

    /**
     * The usable global addresses in {@code ifInet6} (the text of {@code /proc/net/if_inet6}: one address a line,
     * as 32 hex digits, then the interface index, prefix length, scope and flags in hex, then the interface name) on
     * the interfaces named in {@code up}. Malformed lines are skipped.
     */
    static List<String> globalIpv6(String ifInet6, Set<String> up) {
        Set<String> found = new TreeSet<>();
        for (String line : ifInet6.lines().toList()) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length != 6 || fields[0].length() != 32 || !up.contains(fields[5])) {
                continue;
            }
            int flags;
            byte[] bytes;
            try {
                flags = Integer.parseInt(fields[4], 16);
                bytes = HexFormat.of().parseHex(fields[0]);
            } catch (IllegalArgumentException e) {
                continue;
            }
            if ((flags & (IFA_F_DADFAILED | IFA_F_DEPRECATED | IFA_F_TENTATIVE)) != 0) {
                continue;
            }
            InetAddress address = IpLiteral.of(bytes);
            if (isGlobalUnicast(address) && found.size() < MAX_IPV6) {
                found.add(IpLiteral.format(address));
            }
        }
        return List.copyOf(found);
    }

    /** Whether {@code address} is IPv6 global unicast ({@code 2000::/3}): not link-local, unique-local or mapped. */
    static boolean isGlobalUnicast(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return false;
        }
        int first = address.getAddress()[0] & 0xFF;
        return (first & 0xE0) == 0x20;
    }

    private static List<String> globalIpv6FromJdk(Set<String> up) throws IOException {
        Set<String> found = new TreeSet<>();
        for (NetworkInterface network : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!up.contains(network.getName())) {
                continue;
            }
            network.getInterfaceAddresses().stream()
                    .map(address -> address.getAddress())
                    .filter(LocalAddresses::isGlobalUnicast)
                    .limit(MAX_IPV6)
                    .forEach(address -> found.add(IpLiteral.format(IpLiteral.of(address.getAddress()))));
        }
        return found.stream().limit(MAX_IPV6).toList();
    }

    /** Names of the interfaces whose addresses count: up, neither loopback nor point-to-point. */
    private static Set<String> upInterfaces() throws IOException {
        Set<String> names = new TreeSet<>();
        for (NetworkInterface network : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (network.isUp() && !network.isLoopback() && !network.isPointToPoint()) {
                names.add(network.getName());
            }
        }
        return names;
    }

    private static List<String> list() throws IOException {
        List<String> addresses = new ArrayList<>();
        for (NetworkInterface network : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!network.isUp() || network.isLoopback() || network.isPointToPoint()) {
                continue;
            }
            network.getInterfaceAddresses().stream()
                    .map(address -> address.getAddress())
                    .filter(address -> address instanceof Inet4Address)
                    .forEach(address -> addresses.add(address.getHostAddress()));
        }
        return addresses;
    }
}
