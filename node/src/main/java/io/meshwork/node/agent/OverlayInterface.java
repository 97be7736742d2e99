package io.meshwork.node.agent;

import io.meshwork.protocol.net.Prefix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh interface's addresses: each overlay address with the organization's prefix length (its IPv4 CIDR's,
 * e.g. {@code 10.77.0.2/16}; {@code /64} for the IPv6 ULA), so the interface claims the organization's overlay and
 * nothing else of the host's address space.
 *
 * <p>A host may have IPv6 turned off: {@code net.ipv6.conf.all.disable_ipv6=1} (common on VMs, containers and
 * hardened hosts) or a kernel booted with {@code ipv6.disable=1}. Such a node runs IPv4-only: it configures its IPv4
 * overlay address, says once why the IPv6 one is missing, and works on (peers still list its IPv6 overlay address;
 * traffic to it has no route). See docs/architecture.md, "Node".
 */
final class OverlayInterface {

    private static final Logger log = LoggerFactory.getLogger(OverlayInterface.class);
    /** What {@code ip} says when the device or the host has IPv6 turned off. */
    private static final String IPV6_DISABLED_ERROR = "IPv6 is disabled";
    static final int DEFAULT_IPV6_PREFIX_LENGTH = 64;
    /** Only for identities from a control that did not hand out prefixes, until the first peer-map snapshot. */
    static final int LEGACY_IPV4_PREFIX_LENGTH = 10;

    /** Runs one {@code ip} command; throws with its output when it fails. */
    interface CommandRunner {
        void run(List<String> command) throws IOException;
    }

    /**
     * What was configured.
     *
     * @param addresses    the addresses with prefix lengths now on the interface ("10.77.0.2/16")
     * @param ipv6Missing  why the IPv6 overlay address is not configured, in words; null when it is (or there is none)
     */
    record Configured(List<String> addresses, String ipv6Missing) {
        /** For {@code meshwork status}: what of the overlay this host lacks, or null. */
        String overlayNote() {
            return ipv6Missing == null ? null : "IPv4 only: " + ipv6Missing;
        }
    }

    private final String name;
    private final Path procRoot;
    private final CommandRunner runner;
    private Configured current = new Configured(List.of(), null);

    OverlayInterface(String name, Path procRoot, CommandRunner runner) {
        this.name = name;
        this.procRoot = procRoot;
        this.runner = runner;
    }

    /** The interface as the host has it: {@code /proc} and the {@code ip} command. */
    static OverlayInterface of(String name) {
        return new OverlayInterface(name, Path.of("/proc"), OverlayInterface::runCommand);
    }

    Configured current() {
        return current;
    }

    /** Whether the interface already has these addresses with these prefixes' lengths (nothing to run again). */
    synchronized boolean hasAddresses(List<String> overlayIps, List<String> overlayPrefixes) {
        for (String ip : overlayIps) {
            String address = ip + "/" + prefixLength(ip, overlayPrefixes);
            boolean skippedV6 = ip.contains(":") && current.ipv6Missing() != null;
            if (!skippedV6 && !current.addresses().contains(address)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Puts {@code overlayIps} on the interface with the lengths of the matching {@code overlayPrefixes} (null or
     * empty: the legacy /10 and /64), removes addresses it configured before that are no longer wanted, and brings
     * the interface up. An IPv6 address is skipped, with the reason, when the host has IPv6 turned off.
     */
    synchronized Configured configure(List<String> overlayIps, List<String> overlayPrefixes) throws IOException {
        List<String> wanted = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        for (String ip : overlayIps) {
            String address = ip + "/" + prefixLength(ip, overlayPrefixes);
            (ip.contains(":") ? v6 : wanted).add(address);
        }
        String ipv6Missing = v6.isEmpty() ? null : ipv6Unavailable();
        for (String old : current.addresses()) {
            if (!wanted.contains(old) && !v6.contains(old)) {
                // An address with another prefix length is another address to the kernel: replace would add it.
                run("ip", family(old), "addr", "del", old, "dev", name);
            }
        }
        List<String> configured = new ArrayList<>();
        for (String address : wanted) {
            run("ip", "-4", "addr", "replace", address, "dev", name);
            configured.add(address);
        }
        if (ipv6Missing == null) {
            for (String address : v6) {
                try {
                    run("ip", "-6", "addr", "replace", address, "dev", name);
                    configured.add(address);
                } catch (IOException e) {
                    if (!Objects.toString(e.getMessage(), "").contains(IPV6_DISABLED_ERROR)) {
                        throw e;
                    }
                    ipv6Missing = "IPv6 is disabled on " + name + " (" + e.getMessage() + ")";
                }
            }
        }
        run("ip", "link", "set", name, "up");
        if (ipv6Missing != null && !ipv6Missing.equals(current.ipv6Missing())) {
            log.warn("overlay is IPv4-only on this host: {}; peers reach this node on IPv4 only", ipv6Missing);
        }
        current = new Configured(List.copyOf(configured), ipv6Missing);
        return current;
    }

    /**
     * Why IPv6 addresses cannot go on this host's interfaces, or null when they can: no IPv6 in the kernel, or
     * disabled for all interfaces, by default for new ones, or on this one.
     */
    String ipv6Unavailable() {
        Path ipv6 = procRoot.resolve("sys/net/ipv6");
        if (!Files.isDirectory(ipv6)) {
            return "the kernel has no IPv6 (booted with ipv6.disable=1, or built without it)";
        }
        for (String scope : List.of("all", "default", name)) {
            if ("1".equals(read(ipv6.resolve("conf").resolve(scope).resolve("disable_ipv6")))) {
                return "IPv6 is disabled " + (scope.equals(name) ? "on " + name : "on this host")
                        + " (net.ipv6.conf." + scope + ".disable_ipv6=1)";
            }
        }
        return null;
    }

    /** The prefix length for {@code ip}: from the prefix of the same family in {@code overlayPrefixes}. */
    static int prefixLength(String ip, List<String> overlayPrefixes) {
        boolean v6 = ip.contains(":");
        if (overlayPrefixes != null) {
            for (String text : overlayPrefixes) {
                try {
                    Prefix prefix = Prefix.parse(text);
                    if (prefix.isIpv4() != v6 && prefix.length() >= 1) {
                        return prefix.length();
                    }
                } catch (RuntimeException e) {
                    log.debug("ignoring overlay prefix {}: {}", text, e.getMessage());
                }
            }
        }
        return v6 ? DEFAULT_IPV6_PREFIX_LENGTH : LEGACY_IPV4_PREFIX_LENGTH;
    }

    private static String family(String address) {
        return address.contains(":") ? "-6" : "-4";
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return null;
        }
    }

    private void run(String... command) throws IOException {
        runner.run(List.of(command));
    }

    /** Runs one command as this class does ({@code ip}); also the resolver's for its service addresses. */
    static void runCommand(List<String> command) throws IOException {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (process.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
