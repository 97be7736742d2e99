package io.meshwork.simulation.mesh;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

/** What the mesh scenarios check of a pair of simulated nodes. */
final class MeshAssertions {

    private MeshAssertions() {}

    static boolean bothDirect(SimNode a, SimNode b) {
        return a.isDirectTo(b) && b.isDirectTo(a);
    }

    /** A burst each way on the current paths arrives (some may be lost on lossy links, not all). */
    static void assertFlows(SimMesh mesh, SimNode a, SimNode b) {
        int toB = b.dataFrom(a);
        int toA = a.dataFrom(b);
        for (int i = 0; i < 5; i++) {
            a.sendData(b);
            b.sendData(a);
        }
        mesh.advance(Duration.ofSeconds(1));
        assertTrue(b.dataFrom(a) > toB, a + " -> " + b + " on " + a.statusTo(b));
        assertTrue(a.dataFrom(b) > toA, b + " -> " + a + " on " + b.statusTo(a));
    }
}
