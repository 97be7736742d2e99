package io.meshwork.tests.stun;

import static io.meshwork.tests.stun.LoopbackStun.IP1;
import static io.meshwork.tests.stun.LoopbackStun.IP2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.meshwork.protocol.stun.StunServer;
import io.meshwork.protocol.stun.StunServerAddresses;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Debian {@code stun} client (an RFC 3489 client: no magic cookie, CHANGED-ADDRESS and
 * SOURCE-ADDRESS instead of the RFC 5780 names) against meshwork's STUN server in RFC 5780 mode on
 * loopback, where there is no NAT: it must see an open Internet with working change requests.
 */
class StunClientAgainstMeshworkServerTest {

    private record Run(int exitCode, String output) {
    }

    private static Run runStunClient(Path stun, int serverPort) throws IOException, InterruptedException {
        int sourcePort = LoopbackStun.freePortPair();
        // The client binds its source port and the one above it; the server port goes after a colon.
        Process process = new ProcessBuilder(stun.toString(), IP1.getHostAddress() + ":" + serverPort,
                "-v", "-p", Integer.toString(sourcePort))
                .redirectErrorStream(true)
                .start();
        boolean finished = process.waitFor(30, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new AssertionError("stun client did not finish within 30 s");
        }
        return new Run(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void debianStunClientSeesAnOpenInternet() throws Exception {
        Optional<Path> stun = LoopbackStun.tool("stun");
        assumeTrue(stun.isPresent(), "stun (Debian package stun-client) is not installed");
        int port = LoopbackStun.freePortPair();
        try (StunServer server = StunServer.start(StunServerAddresses.rfc5780(IP1, IP2, port), "meshwork test")) {
            Run run = runStunClient(stun.get(), port);
            String output = run.output();
            // Tests I (twice), II and III all answered, with the alternate address we advertise.
            assertTrue(output.contains("test I = 1"), output);
            assertTrue(output.contains("test II = 1"), output);
            assertTrue(output.contains("test III = 1"), output);
            assertTrue(output.contains("ChangedAddress = " + IP2.getHostAddress() + ":" + (port + 1)), output);
            assertTrue(output.contains("SourceAddress = " + IP2.getHostAddress() + ":" + port), output);
            assertTrue(output.contains("is nat  = 0"), output);
            assertTrue(output.contains("Primary: Open"), output);
            // The client exits with the value it prints, whose low bits encode the NAT type.
            Matcher value = Pattern.compile("Return value is 0x([0-9a-fA-F]+)").matcher(output);
            assertTrue(value.find(), output);
            assertEquals(Integer.parseInt(value.group(1), 16) & 0xFF, run.exitCode());
            assertTrue(server.answered() >= 4, "answered " + server.answered());
        }
    }
}
