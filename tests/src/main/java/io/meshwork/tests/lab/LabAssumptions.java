package io.meshwork.tests.lab;

import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Skips a test, with a message saying why, where the lab cannot run: it needs root, the {@code ip} and
 * {@code iptables} tools, and permission to create network namespaces. CI runs as root, so there the lab
 * tests run.
 */
public final class LabAssumptions {

    private LabAssumptions() {}

    /** Skips unless network namespaces can be made here. */
    public static void assumeLabAvailable() {
        String reason = whyLabUnavailable();
        Assumptions.assumeTrue(reason == null, () -> "lab test skipped: " + reason);
    }

    /** Skips unless each program is installed (the message names the Debian package to install). */
    public static void assumePrograms(String... programs) {
        for (String program : programs) {
            Assumptions.assumeTrue(Shell.has(program),
                    () -> "lab test skipped: " + program + " is not installed (.ci/run installs it from Debian)");
        }
    }

    /** Null when the lab can run, else the reason it cannot. */
    public static String whyLabUnavailable() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            return "network namespaces need Linux";
        }
        ExecResult id = Shell.run(List.of("id", "-u"));
        if (!id.succeeded() || !id.stdout().strip().equals("0")) {
            return "it needs root to create network namespaces and NAT gateways (running as uid "
                    + id.stdout().strip() + ")";
        }
        for (String program : List.of("ip", "iptables")) {
            if (!Shell.has(program)) {
                return program + " is not installed (.ci/run installs iproute2 and iptables)";
            }
        }
        return null;
    }
}
