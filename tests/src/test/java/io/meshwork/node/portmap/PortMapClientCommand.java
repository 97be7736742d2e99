package io.meshwork.node.portmap;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Lab helper: asks the default gateway for a mapping with each protocol client of the node in turn (PCP for
 * {@code --port}, NAT-PMP for the next port, UPnP IGD for the one after), prints
 * {@code mapped PROTOCOL EXTERNAL for PORT} or {@code no mapping PROTOCOL}, holds the mappings for {@code --hold},
 * deletes them, prints {@code deleted PROTOCOL}, and exits 0 when every protocol mapped.
 */
@Command(name = "portmap-client", mixinStandardHelpOptions = true)
public final class PortMapClientCommand implements Callable<Integer> {

    @Option(names = "--port", required = true, description = "The first internal UDP port to map.")
    int port;

    @Option(names = "--hold", defaultValue = "PT10S", description = "How long to hold the mappings (ISO-8601).")
    Duration hold;

    @Override
    public Integer call() throws Exception {
        InetAddress gateway = DefaultGateway.read().orElseThrow(() -> new IllegalStateException("no default gateway"));
        DropCounter drops = new DropCounter();
        Duration timeout = Duration.ofSeconds(1);
        List<MappingClient> clients = List.of(new PcpClient(timeout, drops, Clock.systemUTC()),
                new NatPmpClient(timeout, drops, Clock.systemUTC()), new UpnpClient(timeout, drops, Clock.systemUTC()));
        List<Lease> leases = new ArrayList<>();
        List<MappingClient> owners = new ArrayList<>();
        int internal = port;
        for (MappingClient client : clients) {
            Optional<Lease> lease = client.map(gateway, internal, Duration.ofMinutes(10), null);
            if (lease.isPresent()) {
                System.out.println("mapped " + client.protocol().id() + " "
                        + lease.get().mapping().external().getAddress().getHostAddress() + ":"
                        + lease.get().mapping().external().getPort() + " for " + internal);
                leases.add(lease.get());
                owners.add(client);
            } else {
                System.out.println("no mapping " + client.protocol().id());
            }
            internal++;
        }
        System.out.flush();
        Thread.sleep(hold.toMillis());
        for (int i = 0; i < leases.size(); i++) {
            owners.get(i).delete(leases.get(i));
            System.out.println("deleted " + owners.get(i).protocol().id());
        }
        System.out.flush();
        return leases.size() == clients.size() ? 0 : 1;
    }
}
