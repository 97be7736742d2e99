package io.meshwork.node.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code meshwork node ...}: run or stop the agent on this device. */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run or stop the node agent on this device.",
        subcommands = {NodeUpCommand.class, NodeDownCommand.class})
public final class NodeCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
