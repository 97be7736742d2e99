package io.meshwork.node.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --state DIR} option every node command shares: where the agent keeps its identity and its local
 * control socket. Defaults to $MESHWORK_STATE_DIR, else /var/lib/meshwork for root, else
 * ~/.local/state/meshwork.
 */
public final class StateDirectoryOption {

    @Option(names = "--state", paramLabel = "DIR",
            description = "Agent state directory (default: $MESHWORK_STATE_DIR, /var/lib/meshwork as root, "
                    + "else ~/.local/state/meshwork).")
    Path stateDirectory;

    public Path resolve() {
        if (stateDirectory != null) {
            return stateDirectory;
        }
        String fromEnvironment = System.getenv("MESHWORK_STATE_DIR");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return Path.of(fromEnvironment);
        }
        if ("root".equals(System.getProperty("user.name"))) {
            return Path.of("/var/lib/meshwork");
        }
        return Path.of(System.getProperty("user.home"), ".local", "state", "meshwork");
    }
}
