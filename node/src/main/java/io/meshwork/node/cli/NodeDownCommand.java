package io.meshwork.node.cli;

import io.meshwork.node.local.LocalApiClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code meshwork node down}: asks the agent of a state directory to leave the mesh and exit. */
@Command(name = "down", mixinStandardHelpOptions = true,
        description = "Stop the agent running with this state directory; its identity stays for the next `up`.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:the agent is stopping", "3:no agent running with this state directory"})
public final class NodeDownCommand implements Callable<Integer> {

    @Mixin
    StateDirectoryOption state = new StateDirectoryOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try {
            new LocalApiClient(state.resolve()).down();
            spec.commandLine().getOut().println("meshwork: agent stopping");
            return ExitCodes.OK;
        } catch (LocalApiClient.LocalApiException e) {
            spec.commandLine().getErr().println("meshwork node down: " + e.getMessage());
            return ExitCodes.NO_AGENT;
        }
    }
}
