package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.NatKind;
import io.meshwork.node.local.LocalApiClient;
import io.meshwork.node.local.NodeStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * How fast two nodes behind endpoint-independent NATs find each other: the time from both being up to the first
 * WireGuard session (through the relay) and to the direct path. Printed, not asserted beyond "it happens": the
 * goals (first packet within 1 s, direct within 3 s) are measurements, and this machine's load varies.
 * The agents' local sockets are read from here directly, every 20 ms (a socket file is not bound to a network
 * namespace).
 */
class PathTimingLabTest {

    @Test
    void printsTimeToFirstSessionAndToDirect() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl");
        try (Lab lab = Lab.create("mwtime")) {
            LabMesh mesh = LabMesh.start(lab);
            Host left = lab.site("west", NatKind.ENDPOINT_INDEPENDENT).host("west");
            Host right = lab.site("east", NatKind.ENDPOINT_INDEPENDENT).host("east");
            CompletableFuture<Void> leftUp = CompletableFuture.runAsync(
                    () -> mesh.startNode(left, "mwtime0", Duration.ofSeconds(30)));
            CompletableFuture<Void> rightUp = CompletableFuture.runAsync(
                    () -> mesh.startNode(right, "mwtime1", Duration.ofSeconds(30)));
            CompletableFuture.allOf(leftUp, rightUp).join();
            long bothUp = System.nanoTime();

            Path leftState = mesh.state(left);
            Path rightState = mesh.state(right);
            long session = -1;
            long direct = -1;
            long deadline = bothUp + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline && direct < 0) {
                String leftPath = pathToPeer(leftState);
                String rightPath = pathToPeer(rightState);
                long now = System.nanoTime();
                if (session < 0 && !leftPath.equals("none") && !rightPath.equals("none")) {
                    session = now;
                }
                if (leftPath.equals("direct") && rightPath.equals("direct")) {
                    direct = now;
                }
                Thread.sleep(20);
            }
            System.out.printf(Locale.ROOT, "path timing: first WireGuard session %s, direct %s after both nodes were up%n",
                    millis(session, bothUp), millis(direct, bothUp));
            assertTrue(session > 0, "a session formed within 30 s");
            assertTrue(direct > 0, "the pair went direct within 30 s");
        }
    }

    private static String pathToPeer(Path state) {
        try {
            NodeStatus status = new LocalApiClient(state).status();
            return status.peers().isEmpty() ? "none" : status.peers().get(0).path();
        } catch (LocalApiClient.LocalApiException e) {
            return "none";
        }
    }

    private static String millis(long at, long since) {
        return at < 0 ? "never" : String.format(Locale.ROOT, "%.0f ms", (at - since) / 1e6);
    }
}
