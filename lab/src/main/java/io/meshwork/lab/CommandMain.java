package io.meshwork.lab;

import java.util.Arrays;
import picocli.CommandLine;

/**
 * Runs one picocli command class by name: {@code CommandMain io.meshwork.node.cli.NetcheckCommand --json}.
 * Lab tests use it to run any module's command in a fresh JVM inside a namespace.
 */
public final class CommandMain {

    private CommandMain() {}

    public static void main(String[] args) throws ReflectiveOperationException {
        if (args.length == 0) {
            System.err.println("usage: CommandMain COMMAND_CLASS [ARGS...]");
            System.exit(2);
        }
        Object command = Class.forName(args[0]).getDeclaredConstructor().newInstance();
        System.exit(new CommandLine(command).execute(Arrays.copyOfRange(args, 1, args.length)));
    }
}
