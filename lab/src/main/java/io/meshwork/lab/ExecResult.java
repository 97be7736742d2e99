package io.meshwork.lab;

import java.util.List;

/** What a finished command printed and how it exited. */
public record ExecResult(List<String> command, int exitCode, String stdout, String stderr) {

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Returns this result, or throws {@link LabException} with the command's output when it failed. */
    public ExecResult orThrow() {
        if (exitCode != 0) {
            throw new LabException(describe());
        }
        return this;
    }

    /** The command as one line, with very long arguments (a classpath) shortened. */
    public String commandLine() {
        return String.join(" ", command.stream()
                .map(argument -> argument.length() > 120 ? argument.substring(0, 40) + "...(" + argument.length()
                        + " chars)" : argument)
                .toList());
    }

    public String describe() {
        return commandLine() + " exited " + exitCode
                + (stdout.isBlank() ? "" : "\nstdout: " + stdout.strip())
                + (stderr.isBlank() ? "" : "\nstderr: " + stderr.strip());
    }
}
