package io.meshwork.lab;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs commands on the machine and collects their output, with a time limit. */
public final class Shell {

    /** Every command the lab runs finishes within this unless a caller says otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private Shell() {}

    public static ExecResult run(List<String> command) {
        return run(command, DEFAULT_TIMEOUT);
    }

    public static ExecResult run(List<String> command, Duration timeout) {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            throw new LabException("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
        try {
            process.getOutputStream().close();
            CompletableFuture<String> stdout = drain(process.getInputStream());
            CompletableFuture<String> stderr = drain(process.getErrorStream());
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                return new ExecResult(command, 124, stdout.getNow(""),
                        "timed out after " + timeout.toSeconds() + " s\n" + stderr.getNow(""));
            }
            return new ExecResult(command, process.exitValue(), stdout.join(), stderr.join());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new LabException("interrupted while running " + String.join(" ", command), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            try (stream) {
                stream.transferTo(buffer);
            } catch (IOException ignored) {
                // The process was killed; what was read so far is all there is.
            }
            return buffer.toString(StandardCharsets.UTF_8);
        });
    }

    /** True when the named program is on the PATH. */
    public static boolean has(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (new java.io.File(dir, program).canExecute()) {
                return true;
            }
        }
        return new java.io.File("/usr/sbin", program).canExecute() || new java.io.File("/sbin", program).canExecute();
    }
}
