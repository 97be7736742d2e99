package io.meshwork.node.cli;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Starts this same command again as a detached background process (its own session, stdin from /dev/null), the
 * way wireguard-go daemonises: same JVM, JVM options, classpath, main class and arguments, give or take a flag.
 */
final class Daemon {

    private Daemon() {}

    /**
     * @param withoutFlag an argument to leave out (the one that asked for the daemon), or null
     * @param withFlag    an argument to add (the one that keeps the child in the foreground), or null
     * @param log         where the child's output goes, or null to discard it
     */
    static Process relaunch(String withoutFlag, String withFlag, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute()) {
            command.add("/usr/bin/setsid");
        }
        // /proc's command line can be truncated; the runtime's own record of it is not.
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        Arrays.stream(System.getProperty("sun.java.command").split(" "))
                .filter(argument -> !argument.equals(withoutFlag))
                .forEach(command::add);
        if (withFlag != null) {
            command.add(withFlag);
        }
        ProcessBuilder.Redirect output = log == null ? ProcessBuilder.Redirect.DISCARD
                : ProcessBuilder.Redirect.appendTo(log.toFile());
        return new ProcessBuilder(command)
                .redirectOutput(output)
                .redirectError(output)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
    }
}
