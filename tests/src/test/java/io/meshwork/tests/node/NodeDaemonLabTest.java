package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.NatKind;
import io.meshwork.node.cli.NodeDownCommand;
import io.meshwork.node.cli.NodeUpCommand;
import io.meshwork.node.local.LocalApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code node up --daemon} returns once the agent answers, refuses a second agent on one state, and stops on down. */
class NodeDaemonLabTest {

    @Test
    void daemonStartsInTheBackgroundAndStopsOnDown() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl");
        try (Lab lab = Lab.create("mwdmn")) {
            LabMesh mesh = LabMesh.start(lab);
            Host host = lab.site("home", NatKind.ENDPOINT_INDEPENDENT).host("box");
            Path state = mesh.state(host);
            String[] up = {"--control", LabMesh.CONTROL_URL, "--control-pin", mesh.controlPin(),
                    "--key", mesh.registrationKey(),
                    "--state", state.toString(), "--ifname", "mwdmn0", "--hostname", "box", "--daemon"};
            ExecResult started = host.javaExec(Duration.ofSeconds(120), NodeUpCommand.class.getName(), up);
            assertEquals(0, started.exitCode(), started.describe());
            assertTrue(started.stdout().contains("up as box"), started.stdout());
            assertEquals("box", new LocalApiClient(state).status().self().hostname(), "the agent answers");
            assertTrue(Files.exists(state.resolve("node.log")));

            ExecResult second = host.javaExec(Duration.ofSeconds(60), NodeUpCommand.class.getName(), up);
            assertEquals(1, second.exitCode(), second.describe());
            assertTrue(second.stderr().contains("already runs"), second.describe());

            ExecResult down = host.javaExec(Duration.ofSeconds(60), NodeDownCommand.class.getName(),
                    "--state", state.toString());
            assertEquals(0, down.exitCode(), down.describe());
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            boolean stopped = false;
            while (!stopped && System.nanoTime() < deadline) {
                try {
                    new LocalApiClient(state).status();
                    Thread.sleep(200);
                } catch (LocalApiClient.LocalApiException e) {
                    stopped = true;
                }
            }
            assertTrue(stopped, "the agent stopped after node down");
            assertThrows(LocalApiClient.LocalApiException.class, () -> new LocalApiClient(state).status());
        }
    }
}
