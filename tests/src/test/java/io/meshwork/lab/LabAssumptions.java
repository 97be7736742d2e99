package io.meshwork.lab;

import org.junit.jupiter.api.Assumptions;

/**
 * Skips a test, with a message saying why, where the lab cannot run ({@link LabSupport#unavailableReason()}). CI
 * runs as root, so there the lab tests run.
 */
public final class LabAssumptions {

    private LabAssumptions() {}

    /** Skips unless network namespaces can be made here. */
    public static void assumeLabAvailable() {
        String reason = LabSupport.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "lab test skipped: " + reason);
    }

    /** Skips unless each program is installed (the message names the Debian package to install). */
    public static void assumePrograms(String... programs) {
        for (String program : programs) {
            Assumptions.assumeTrue(Shell.has(program),
                    () -> "lab test skipped: " + program + " is not installed (.ci/run installs it from Debian)");
        }
    }
}
