package io.meshwork.node.cli;

import io.meshwork.node.dataplane.LinuxTun;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.transport.NettyUdpTransport;
import io.meshwork.node.uapi.UapiServer;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code meshwork wg-device IFNAME}: a userspace WireGuard interface, a drop-in for {@code wireguard-go IFNAME}.
 * Configure it with {@code ip} and {@code wg} as any WireGuard interface.
 */
@Command(name = "wg-device", mixinStandardHelpOptions = true,
        description = {"Create a userspace WireGuard interface, like `wireguard-go IFNAME`.",
            "Then: ip addr add ... dev IFNAME; wg set IFNAME private-key FILE peer ...; ip link set IFNAME up."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:the interface runs (or ran until stopped)", "1:the interface could not be created"})
public final class WgDeviceCommand implements Callable<Integer> {

    static final int DEFAULT_MTU = 1420;

    @Parameters(paramLabel = "IFNAME", description = "Interface name (1 to 15 characters).")
    String interfaceName;

    @Option(names = {"-f", "--foreground"}, description = "Stay in the foreground instead of daemonising.")
    boolean foreground;

    @Option(names = "--mtu", defaultValue = "1420", description = "Interface MTU (default: 1420).")
    int mtu;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!foreground && !"1".equals(System.getenv("WG_PROCESS_FOREGROUND"))) {
            return daemonise();
        }
        LinuxTun tun;
        try {
            tun = LinuxTun.create(interfaceName, mtu);
        } catch (java.io.IOException e) {
            spec.commandLine().getErr().println("meshwork wg-device: " + e.getMessage());
            return 1;
        }
        WireGuardDevice device = new WireGuardDevice(tun,
                port -> NettyUdpTransport.bindAnyAddress(port));
        UapiServer uapi = UapiServer.start(device);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            uapi.close();
            device.close();
            stopped.countDown();
        }, "wg-device-shutdown"));
        spec.commandLine().getErr().println("meshwork wg-device: " + interfaceName + " up, UAPI at " + uapi.socketPath());
        stopped.await();
        return 0;
    }

    /** Starts this same command again with --foreground, detached, and returns once its UAPI socket exists. */
    private int daemonise() throws Exception {
        Path socket = UapiServer.SOCKET_DIRECTORY.resolve(interfaceName + ".sock");
        Files.deleteIfExists(socket);
        Process child = Daemon.relaunch(null, "--foreground", null);
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(socket)) {
                return 0;
            }
            if (!child.isAlive()) {
                spec.commandLine().getErr().println("meshwork wg-device: could not create " + interfaceName
                        + " (run with --foreground to see why)");
                return 1;
            }
            Thread.sleep(50);
        }
        spec.commandLine().getErr().println("meshwork wg-device: " + interfaceName + " did not come up in 15 s");
        return 1;
    }
}
