package io.meshwork.lab;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One machine of the lab: a network namespace with an address. Commands run inside it through
 * {@code ip netns exec}.
 */
public final class Host {

    private final Lab lab;
    private final String name;
    private final String namespace;
    private final String address;
    /** The host's global IPv6 address on the lab's IPv6 internet, null without one ({@link Lab.Ipv6}). */
    private volatile String ipv6Address;

    Host(Lab lab, String name, String namespace, String address) {
        this.lab = lab;
        this.name = name;
        this.namespace = namespace;
        this.address = address;
    }

    public String name() {
        return name;
    }

    /** The network namespace this host is. */
    public String namespace() {
        return namespace;
    }

    /** The host's own (first) IPv4 address: public for internet hosts, private for hosts behind a NAT. */
    public String address() {
        return address;
    }

    /**
     * The host's global IPv6 address (from {@value Lab#IPV6_INTERNET_CIDR} on the internet, a site's
     * {@code 2001:db8:S::/64} on its LAN), or null when the host has none: a host of a site without
     * {@link Lab.Ipv6#ROUTED}, a public host not given one.
     */
    public String ipv6Address() {
        return ipv6Address;
    }

    void ipv6Address(String ipv6Address) {
        this.ipv6Address = ipv6Address;
    }

    /**
     * Turns IPv6 off in this host, as {@code sysctl net.ipv6.conf.all.disable_ipv6=1} does on VMs, containers and
     * hardened hosts: interfaces made afterwards (a mesh interface, say) get no IPv6 address either.
     */
    public Host withoutIpv6() {
        exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1").orThrow();
        ipv6Address = null;
        return this;
    }

    /**
     * Gives this host a resolv.conf of its own with {@code content}: {@code /etc/netns/NAMESPACE/resolv.conf},
     * which {@code ip netns exec} mounts over {@code /etc/resolv.conf} for every command run here, so a node with
     * {@code --dns resolvconf} rewrites this file and never the machine's. Removed when the lab closes.
     */
    public Path ownResolvConf(String content) {
        Path file = Path.of("/etc/netns", namespace, "resolv.conf");
        try {
            java.nio.file.Files.createDirectories(file.getParent());
            java.nio.file.Files.writeString(file, content);
        } catch (IOException e) {
            throw new LabException("cannot write " + file + ": " + e.getMessage(), e);
        }
        lab.trackFile(file);
        return file;
    }

    public ExecResult exec(String... command) {
        return exec(Shell.DEFAULT_TIMEOUT, command);
    }

    public ExecResult exec(Duration timeout, String... command) {
        return Shell.run(inNamespace(List.of(command)), timeout);
    }

    /** Starts {@code command} in the background; its output goes to a log file in the lab directory. */
    public LabProcess spawn(String... command) {
        return spawn(command[0].substring(command[0].lastIndexOf('/') + 1), List.of(command));
    }

    /** Like {@link #spawn(String...)}, with a name for the process and its log file. */
    public LabProcess spawn(String processName, List<String> command) {
        List<String> full = inNamespace(command);
        Path log = lab.directory().resolve(name + "-" + processName + "-" + lab.nextSerial() + ".log");
        try {
            Process process = new ProcessBuilder(full)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            LabProcess labProcess = new LabProcess(name + "/" + processName, full, process, log);
            lab.track(labProcess);
            return labProcess;
        } catch (IOException e) {
            throw new LabException("cannot start " + String.join(" ", full) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs one picocli command class (for example the node's {@code NetcheckCommand}) in a fresh JVM inside
     * this host, in the background, with the current classpath.
     */
    public LabProcess java(Class<?> commandClass, String... args) {
        return spawn(commandClass.getSimpleName(), javaCommand(commandClass, args));
    }

    /** Runs one picocli command class in a fresh JVM inside this host and waits for it to finish. */
    public ExecResult javaExec(Duration timeout, Class<?> commandClass, String... args) {
        return javaExec(timeout, commandClass.getName(), args);
    }

    /** Like {@link #javaExec(Duration, Class, String...)}, naming the command class. */
    public ExecResult javaExec(Duration timeout, String commandClassName, String... args) {
        return Shell.run(inNamespace(javaCommand(commandClassName, args)), timeout);
    }

    /** Sends {@code count} pings to {@code destination} and reports whether any came back. */
    public boolean ping(String destination, int count) {
        return exec(Duration.ofSeconds(count + 5L), "ping", "-c", Integer.toString(count), "-W", "1", destination)
                .succeeded();
    }

    /**
     * Pings {@code destination} once a second until it answers or {@code patience} runs out: for first contact,
     * where a handshake (and a cold JVM on a busy machine) comes before the first reply.
     */
    public boolean pingWithin(String destination, Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        do {
            if (ping(destination, 1)) {
                return true;
            }
        } while (System.nanoTime() < deadline);
        return false;
    }

    private List<String> javaCommand(Class<?> commandClass, String... args) {
        return javaCommand(commandClass.getName(), args);
    }

    private List<String> javaCommand(String commandClassName, String... args) {
        List<String> command = new ArrayList<>(Jvm.command());
        command.add(CommandMain.class.getName());
        command.add(commandClassName);
        command.addAll(List.of(args));
        return command;
    }

    private List<String> inNamespace(List<String> command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(command);
        return full;
    }

    @Override
    public String toString() {
        return name + "(" + namespace + ", " + address + ")";
    }
}
