package io.meshwork.node.dns;

import io.meshwork.protocol.net.IpLiteral;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the host's own lookups reach the node's resolver ({@code meshwork node up --dns}; docs/architecture.md,
 * "Names"):
 *
 * <ul>
 *   <li>{@code resolved}: systemd-resolved gets the resolver as the mesh interface's DNS server and {@code
 *       ~DOMAIN} as its routing domain ({@code resolvectl dns/domain/default-route}), so only mesh names go to it
 *       (split DNS) and nothing else of the host's DNS changes; {@code resolvectl revert} at the end.</li>
 *   <li>{@code resolvconf}: {@code /etc/resolv.conf} is kept in the state directory and rewritten in place to
 *       name the resolver (which forwards the rest to the servers it named); put back at {@code node down}, or at
 *       the next start after a crash.</li>
 *   <li>{@code auto}: {@code resolved} when systemd-resolved runs; otherwise nothing, and the log says how to
 *       turn it on.</li>
 *   <li>{@code off}: nothing.</li>
 * </ul>
 *
 * The file is written in place, never replaced: under {@code ip netns exec} it is a bind mount of
 * {@code /etc/netns/NAME/resolv.conf}. A symbolic link (a resolv.conf managed by some other program) is left alone.
 */
public final class HostDns {

    private static final Logger log = LoggerFactory.getLogger(HostDns.class);
    static final String BACKUP_FILE = "resolv.conf.original";
    private static final String MARKER = "# written by meshwork node up --dns resolvconf";

    /** The {@code --dns} choices. */
    public enum Mode {
        AUTO, RESOLVED, RESOLVCONF, OFF;

        public static Mode parse(String text) {
            try {
                return valueOf(text.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--dns must be auto, resolved, resolvconf or off, not " + text);
            }
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Runs one command (resolvectl); throws with its output when it fails. */
    public interface CommandRunner {
        void run(List<String> command) throws IOException;
    }

    private final Mode requested;
    private final String interfaceName;
    private final Path resolvConf;
    private final Path backup;
    private final Path resolvedRuntime;
    private final CommandRunner runner;
    private Mode effective = Mode.OFF;
    private String note;
    private List<InetAddress> servers = List.of();

    /**
     * @param resolvConf      the host's resolv.conf ({@code /etc/resolv.conf})
     * @param stateDirectory  where the original resolv.conf is kept while {@code resolvconf} mode runs
     * @param resolvedRuntime systemd-resolved's runtime directory ({@code /run/systemd/resolve}): it runs when
     *                        that holds its stub resolv.conf
     */
    public HostDns(Mode requested, String interfaceName, Path resolvConf, Path stateDirectory, Path resolvedRuntime,
            CommandRunner runner) {
        this.requested = requested;
        this.interfaceName = interfaceName;
        this.resolvConf = resolvConf;
        this.backup = stateDirectory.resolve(BACKUP_FILE);
        this.resolvedRuntime = resolvedRuntime;
        this.runner = runner;
    }

    /** The host as it is: {@code /etc/resolv.conf}, {@code /run/systemd/resolve} and the real resolvectl. */
    public static HostDns of(Mode mode, String interfaceName, Path stateDirectory) {
        return new HostDns(mode, interfaceName, Path.of("/etc/resolv.conf"), stateDirectory,
                Path.of("/run/systemd/resolve"), HostDns::runCommand);
    }

    /**
     * Puts back a resolv.conf an earlier run left rewritten (it stopped without {@code node down}): called at
     * start, before anything reads the host's servers.
     */
    public void recover() throws IOException {
        if (Files.exists(backup)) {
            log.warn("restoring {} as it was before an earlier run of this node that did not stop cleanly",
                    resolvConf);
            writeInPlace(Files.readString(backup));
            Files.delete(backup);
        }
    }

    /**
     * The name servers the host uses now, from resolv.conf (at most three, RFC-less but as glibc reads them), less
     * {@code exclude} (the resolver's own addresses, should the file name them), on port 53.
     */
    public List<InetSocketAddress> hostServers(List<InetAddress> exclude) {
        List<InetSocketAddress> servers = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(resolvConf)) {
                String[] words = line.strip().split("\\s+");
                if (words.length >= 2 && words[0].equals("nameserver")) {
                    try {
                        InetAddress address = IpLiteral.parse(words[1].replaceAll("%.*$", ""));
                        if (!exclude.contains(address) && servers.size() < 3) {
                            servers.add(new InetSocketAddress(address, 53));
                        }
                    } catch (RuntimeException e) {
                        log.debug("ignoring nameserver {} in {}", words[1], resolvConf);
                    }
                }
            }
        } catch (IOException e) {
            log.warn("cannot read {}: {}; names outside the mesh cannot be forwarded without --dns-upstream",
                    resolvConf, e.getMessage());
        }
        return servers;
    }

    /** Points the host at {@code resolver} for {@code domain} as the mode says; never throws (logs instead). */
    public synchronized void apply(String domain, List<InetAddress> resolver) {
        this.servers = List.copyOf(resolver);
        Mode mode = requested;
        if (mode == Mode.AUTO) {
            if (resolvedRuns()) {
                mode = Mode.RESOLVED;
            } else {
                note = "systemd-resolved does not run: the host does not use the mesh resolver; use --dns "
                        + "resolvconf to point /etc/resolv.conf at it, or ask it directly (dig @"
                        + IpLiteral.format(resolver.get(0)) + " NAME." + domain + ")";
                log.info("DNS: {}", note);
                effective = Mode.OFF;
                return;
            }
        }
        try {
            switch (mode) {
                case RESOLVED -> applyResolved(domain);
                case RESOLVCONF -> applyResolvConf(domain);
                default -> { }
            }
            effective = mode;
            note = null;
        } catch (IOException e) {
            effective = Mode.OFF;
            note = "could not set up " + mode + ": " + e.getMessage();
            log.error("DNS: {}", note);
        }
    }

    /** The domain changed: the routing domain or the search line follows. */
    public synchronized void domainChanged(String domain) {
        try {
            if (effective == Mode.RESOLVED) {
                run("resolvectl", "domain", interfaceName, "~" + domain);
            } else if (effective == Mode.RESOLVCONF) {
                writeInPlace(rewritten(Files.readString(backup), domain));
            }
        } catch (IOException e) {
            log.error("DNS: cannot follow the new domain {}: {}", domain, e.getMessage());
        }
    }

    /** Undoes what {@link #apply} did. */
    public synchronized void restore() {
        try {
            if (effective == Mode.RESOLVED) {
                run("resolvectl", "revert", interfaceName);
            } else if (effective == Mode.RESOLVCONF && Files.exists(backup)) {
                writeInPlace(Files.readString(backup));
                Files.delete(backup);
            }
        } catch (IOException e) {
            log.error("DNS: cannot undo the {} setup: {}", effective, e.getMessage());
        }
        effective = Mode.OFF;
    }

    /** The mode in effect ("off" when auto found nothing to do, or setting up failed). */
    public synchronized Mode effective() {
        return effective;
    }

    public Mode requested() {
        return requested;
    }

    /** Why the host does not use the resolver, or null. */
    public synchronized String note() {
        return note;
    }

    private boolean resolvedRuns() {
        return Files.exists(resolvedRuntime.resolve("stub-resolv.conf"))
                || Files.exists(resolvedRuntime.resolve("io.systemd.Resolve"));
    }

    private void applyResolved(String domain) throws IOException {
        List<String> dns = new ArrayList<>(List.of("resolvectl", "dns", interfaceName));
        servers.forEach(server -> dns.add(IpLiteral.format(server)));
        runner.run(dns);
        run("resolvectl", "domain", interfaceName, "~" + domain);
        // Only the routing domain's names go to this link; it is no default route for every other name.
        run("resolvectl", "default-route", interfaceName, "false");
    }

    private void applyResolvConf(String domain) throws IOException {
        if (Files.isSymbolicLink(resolvConf)) {
            throw new IOException(resolvConf + " is a symbolic link to " + Files.readSymbolicLink(resolvConf)
                    + " (managed by another program); use --dns resolved or off");
        }
        String original = Files.readString(resolvConf);
        if (!Files.exists(backup)) {
            Files.writeString(backup, original, StandardOpenOption.CREATE_NEW);
        }
        writeInPlace(rewritten(Files.readString(backup), domain));
        log.info("DNS: {} now names the mesh resolver; the original is kept in {} and restored at node down",
                resolvConf, backup);
    }

    /** The resolv.conf that names the resolver: the domain searched first, the original's search and options kept. */
    String rewritten(String original, String domain) {
        StringBuilder search = new StringBuilder("search ").append(domain);
        List<String> options = new ArrayList<>();
        for (String line : original.split("\n")) {
            String[] words = line.strip().split("\\s+");
            if ((words[0].equals("search") || words[0].equals("domain")) && words.length > 1) {
                for (int i = 1; i < words.length; i++) {
                    if (!words[i].equals(domain)) {
                        search.append(' ').append(words[i]);
                    }
                }
            } else if (words[0].equals("options")) {
                options.add(line.strip());
            }
        }
        StringBuilder text = new StringBuilder(MARKER).append("; the original is restored at node down\n");
        servers.forEach(server -> text.append("nameserver ").append(IpLiteral.format(server)).append('\n'));
        text.append(search).append('\n');
        options.forEach(line -> text.append(line).append('\n'));
        if (options.stream().noneMatch(line -> line.contains("edns0"))) {
            text.append("options edns0\n");
        }
        return text.toString();
    }

    private void writeInPlace(String text) throws IOException {
        Files.writeString(resolvConf, text, StandardCharsets.UTF_8, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
    }

    private void run(String... command) throws IOException {
        runner.run(List.of(command));
    }

    private static void runCommand(List<String> command) throws IOException {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
