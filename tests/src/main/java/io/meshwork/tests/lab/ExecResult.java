package io.meshwork.tests.lab;

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

    public String describe() {
        return String.join(" ", command) + " exited " + exitCode
                + (stdout.isBlank() ? "" : "\nstdout: " + stdout.strip())
                + (stderr.isBlank() ? "" : "\nstderr: " + stderr.strip());
    }
}
