package io.meshwork.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code meshwork demo --simulate} as a user runs it, and what it does with bad options. */
class DemoCommandTest {

    @Test
    void simulateSaysWhyAndRunsTheScenarioToItsSummary() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int exitCode;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            exitCode = new CommandLine(new DemoCommand()).execute("--simulate", "--seed", "5", "--settle", "12");
        } finally {
            System.setOut(original);
        }
        String output = bytes.toString(StandardCharsets.UTF_8);

        assertEquals(0, exitCode, output);
        assertTrue(output.startsWith("meshwork demo: --simulate given; running the same scenario on the in-JVM NAT "
                + "simulation"), output);
        assertTrue(output.lines().findFirst().orElseThrow().contains("no web console"), output);
        assertTrue(output.contains("(seed 5)"), output);
        assertTrue(output.contains("0 without delivery."), output);
        assertFalse(output.contains("\033"), "off a terminal nothing is redrawn: " + output);
        assertEquals(1, output.lines().filter(line -> line.startsWith("NODE ")).count(),
                "the table of paths is printed once, after the transitions: " + output);
    }

    @Test
    void badOptionsAreUsageErrorsNamingTheOption() {
        assertUsageError("--settle must be positive", "--simulate", "--settle", "0");
        assertUsageError("--speed must be 0 or more", "--simulate", "--speed", "-1");
        assertUsageError("--speed must be 0 or more", "--simulate", "--speed", "NaN");
        assertUsageError("--seed", "--simulate", "--seed", "seven");
    }

    private static void assertUsageError(String message, String... args) {
        StringWriter errors = new StringWriter();
        CommandLine command = new CommandLine(new DemoCommand()).setErr(new PrintWriter(errors));
        assertEquals(CommandLine.ExitCode.USAGE, command.execute(args), errors.toString());
        assertTrue(errors.toString().contains(message), errors.toString());
    }
}
