package io.meshwork.tests.netcheck;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.node.netcheck.NatProber;
import io.meshwork.node.netcheck.NetcheckReportFormat;
import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.node.transport.NettyUdpTransport;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What {@code meshwork netcheck} does, repeated in one long-running JVM as a node's agent repeats it: each round
 * binds a fresh UDP socket, probes, and prints {@code ROUND n} and the JSON report on one line. Round 0 runs at
 * once and warms the JVM up; round n ≥ 1 starts at {@code --start-at} + (n − 1) × {@code --interval}, so
 * several hosts can probe at the same moments.
 */
@Command(name = "netcheck-rounds")
public final class NetcheckRounds implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--stun", required = true)
    List<String> servers = new ArrayList<>();

    @Option(names = "--rounds", required = true)
    int rounds;

    @Option(names = "--timeout", required = true, description = "ISO-8601, e.g. PT8S")
    String timeout;

    @Option(names = "--start-at", required = true, description = "epoch milliseconds of round 1")
    long startAt;

    @Option(names = "--interval", required = true, description = "ISO-8601, e.g. PT10S")
    String interval;

    @Override
    public Integer call() throws Exception {
        Duration budget = Duration.parse(timeout);
        long every = Duration.parse(interval).toMillis();
        List<InetSocketAddress> stun = servers.stream().map(server -> {
            int colon = server.lastIndexOf(':');
            return new InetSocketAddress(server.substring(0, colon), Integer.parseInt(server.substring(colon + 1)));
        }).toList();
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try {
            for (int round = 0; round <= rounds; round++) {
                if (round > 0) {
                    long wait = startAt + (round - 1) * every - System.currentTimeMillis();
                    if (wait > 0) {
                        Thread.sleep(wait);
                    }
                }
                NetcheckResult result;
                try (NettyUdpTransport transport = NettyUdpTransport.bind(new InetSocketAddress("0.0.0.0", 0));
                     NatProber prober = new NatProber(transport, scheduler)) {
                    result = prober.probe(stun, budget).get(budget.toMillis() + 5_000, TimeUnit.MILLISECONDS);
                }
                System.out.println("ROUND " + round + " " + JSON.readTree(NetcheckReportFormat.json(result)));
                System.out.flush();
            }
        } finally {
            scheduler.shutdownNow();
        }
        return 0;
    }
}
