package io.meshwork.cli;

import io.meshwork.control.cli.AdminCommand;
import io.meshwork.control.cli.ControlCommand;
import io.meshwork.demo.DemoCommand;
import io.meshwork.node.cli.NetcheckCommand;
import io.meshwork.node.cli.NodeCommand;
import io.meshwork.node.cli.PingCommand;
import io.meshwork.node.cli.StatusCommand;
import io.meshwork.node.cli.WgDeviceCommand;
import io.meshwork.relay.cli.RelayCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code meshwork} command: one entry point over every module's subcommands.
 *
 * <p>Each module keeps its command classes in its own {@code cli} package; this class only lists them.
 */
@Command(
        name = "meshwork",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "A WireGuard-compatible overlay mesh: control plane, relay and node agent.",
        subcommands = {
            DemoCommand.class,
            NodeCommand.class,
            StatusCommand.class,
            PingCommand.class,
            NetcheckCommand.class,
            WgDeviceCommand.class,
            ControlCommand.class,
            AdminCommand.class,
            RelayCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class Meshwork implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Meshwork()).execute(args));
    }
}
