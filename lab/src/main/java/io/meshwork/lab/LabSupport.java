package io.meshwork.lab;

import java.util.List;

/**
 * Whether the lab can run here: it needs Linux, root, the {@code ip} and {@code iptables} tools, and permission to
 * create network namespaces. The lab tests skip on it and {@code meshwork demo} falls back to the simulation.
 */
public final class LabSupport {

    private LabSupport() {}

    /** Null when network namespaces can be made here, else the reason they cannot. */
    public static String unavailableReason() {
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
