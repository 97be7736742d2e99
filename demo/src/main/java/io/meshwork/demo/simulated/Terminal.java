package io.meshwork.demo.simulated;

import java.io.Console;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Whether standard output is a terminal to redraw in place, and its size.
 *
 * @param interactive whether output is a terminal; false for a pipe, a file or a test
 * @param columns     characters per line (a guess of 120 when the terminal does not say)
 * @param rows        lines on the screen (a guess of 50 when the terminal does not say)
 */
public record Terminal(boolean interactive, int columns, int rows) {

    private static final Terminal GUESS = new Terminal(true, 120, 50);

    /** Plain lines: nothing is redrawn and nothing is cut. */
    public static Terminal plain() {
        return new Terminal(false, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    /** Asks the JVM whether output is a terminal and {@code stty} how big it is. */
    public static Terminal detect() {
        if (!isTerminal()) {
            return plain();
        }
        File tty = new File("/dev/tty");
        if (!tty.canRead()) {
            return GUESS;
        }
        try {
            Process stty = new ProcessBuilder("stty", "size").redirectInput(tty)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String size = new String(stty.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
            if (!stty.waitFor(2, TimeUnit.SECONDS) || stty.exitValue() != 0) {
                return GUESS;
            }
            String[] rowsAndColumns = size.split("\\s+");
            int rows = Integer.parseInt(rowsAndColumns[0]);
            int columns = Integer.parseInt(rowsAndColumns[1]);
            return rows > 0 && columns > 0 ? new Terminal(true, columns, rows) : GUESS;
        } catch (IOException | NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return GUESS;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return GUESS;
        }
    }

    /** Cuts {@code line} to the terminal's width, so a redrawn screen never wraps. */
    public String fit(String line) {
        return line.length() <= columns ? line : line.substring(0, Math.max(0, columns - 3)) + "...";
    }

    /**
     * Since JDK 22 {@code System.console()} is there even when output is redirected, and only
     * {@code Console.isTerminal()} (absent before 22) tells; before 22 a console means a terminal.
     */
    private static boolean isTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
