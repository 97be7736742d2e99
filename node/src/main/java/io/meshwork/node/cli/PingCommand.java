package io.meshwork.node.cli;

import io.meshwork.node.local.LocalApiClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code meshwork ping PEER}: pings a peer through the agent and says which path each reply took. */
@Command(name = "ping", mixinStandardHelpOptions = true,
        description = "Ping a peer over the mesh; each reply says whether it came direct or through a relay.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:at least one reply", "1:no reply", "2:usage error", "3:no agent running"})
public final class PingCommand implements Callable<Integer> {

    @Mixin
    StateDirectoryOption state = new StateDirectoryOption();

    @Parameters(paramLabel = "PEER", description = "The peer's hostname, overlay IP or device id.")
    String peer;

    @Option(names = "-c", paramLabel = "N", defaultValue = "4", description = "Number of pings (default: 4).")
    int count;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (count < 1 || count > 1000) {
            spec.commandLine().getErr().println("meshwork ping: -c must be between 1 and 1000");
            return ExitCodes.USAGE;
        }
        AtomicInteger answered = new AtomicInteger();
        try {
            new LocalApiClient(state.resolve()).ping(peer, count, reply -> {
                if (reply.latencyMs() == null) {
                    out.printf("no reply from %s (seq %d)%n", reply.peer(), reply.seq());
                } else {
                    answered.incrementAndGet();
                    out.printf("pong from %s via %s %s in %.1f ms%n", reply.peer(),
                            reply.path(), reply.via(), reply.latencyMs());
                }
                out.flush();
            });
        } catch (LocalApiClient.LocalApiException e) {
            spec.commandLine().getErr().println("meshwork ping: " + e.getMessage());
            return e.getMessage().startsWith("no agent") || e.getMessage().startsWith("cannot talk")
                    ? ExitCodes.NO_AGENT : ExitCodes.USAGE;
        }
        return answered.get() > 0 ? ExitCodes.OK : ExitCodes.NEGATIVE;
    }
}
