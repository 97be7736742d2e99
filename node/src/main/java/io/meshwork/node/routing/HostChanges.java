package io.meshwork.node.routing;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the node changed on the host for routes (forwarding sysctls, firewall rules, policy-routing rules), kept in
 * {@code STATE/routing.json} before each change is made, so that {@code node down} and the next start after a crash
 * undo exactly that: every undo command, newest first (a failing one is logged and skipped), then every sysctl put
 * back to the value it had. See docs/architecture.md, "Subnet routers and exit nodes".
 */
public final class HostChanges {

    private static final Logger log = LoggerFactory.getLogger(HostChanges.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String FILE = "routing.json";
    /** At most this many undo commands are kept (each change the node makes adds a few). */
    static final int MAX_UNDO = 4096;

    /** Runs host commands ({@code ip}, {@code iptables}, {@code nft}) and reads and writes {@code /proc/sys}. */
    public interface Host {
        void run(List<String> command) throws IOException;

        /** The command's standard output; throws when it fails. */
        String output(List<String> command) throws IOException;

        /** Whether {@code program} can be run here (is on the PATH). */
        boolean has(String program);

        String readSysctl(String path) throws IOException;

        void writeSysctl(String path, String value) throws IOException;
    }

    /** The file's contents: undo commands in the order the changes were made, sysctls' earlier values. */
    record Saved(List<List<String>> undo, Map<String, String> sysctls) {
        Saved {
            undo = undo == null ? List.of() : undo;
            sysctls = sysctls == null ? Map.of() : sysctls;
        }
    }

    private final Path file;
    private final Host host;
    private final List<List<String>> undo = new ArrayList<>();
    private final Map<String, String> sysctls = new LinkedHashMap<>();

    public HostChanges(Path stateDirectory, Host host) {
        this.file = stateDirectory.resolve(FILE);
        this.host = host;
    }

    public Host host() {
        return host;
    }

    /**
     * Undoes what an earlier run left in the file (a crash, or a kill without {@code node down}); nothing when there
     * is no file. Returns how many changes were undone.
     */
    public synchronized int recover() {
        if (!Files.exists(file)) {
            return 0;
        }
        try {
            Saved saved = JSON.readValue(Files.readString(file), Saved.class);
            undo.clear();
            undo.addAll(saved.undo());
            sysctls.clear();
            sysctls.putAll(saved.sysctls());
            int count = undo.size() + sysctls.size();
            log.info("routing: undoing {} change(s) an earlier run left on this host", count);
            undoAll();
            return count;
        } catch (IOException | RuntimeException e) {
            log.warn("routing: cannot read {} ({}); removing it", file, e.toString());
            delete();
            return 0;
        }
    }

    /** Runs {@code command}, its undo {@code undoCommand} recorded first (so a crash after it still undoes it). */
    public synchronized void apply(List<String> command, List<String> undoCommand) throws IOException {
        if (undoCommand == null) {
            host.run(command);
            return;
        }
        if (undo.size() >= MAX_UNDO) {
            throw new IOException("too many routing changes on this host (" + MAX_UNDO + ")");
        }
        List<String> recorded = List.copyOf(undoCommand);
        undo.add(recorded);
        save();
        try {
            host.run(command);
        } catch (IOException e) {
            undo.remove(undo.size() - 1);
            saveQuietly();
            throw e;
        }
    }

    /** Runs {@code undoCommand} now (a change no longer wanted) and forgets it. */
    public synchronized void revert(List<String> undoCommand) {
        if (undo.remove(undoCommand)) {
            runQuietly(undoCommand);
            saveQuietly();
        }
    }

    /** Sets a sysctl, its earlier value recorded first (only the first earlier value counts). */
    public synchronized void sysctl(String path, String value) throws IOException {
        String before = host.readSysctl(path);
        if (before.equals(value)) {
            return;
        }
        sysctls.putIfAbsent(path, before);
        save();
        host.writeSysctl(path, value);
    }

    /** Undoes every change, newest first, and removes the file. */
    public synchronized void undoAll() {
        for (int i = undo.size() - 1; i >= 0; i--) {
            runQuietly(undo.get(i));
        }
        undo.clear();
        sysctls.forEach((path, value) -> {
            try {
                host.writeSysctl(path, value);
            } catch (IOException e) {
                log.warn("routing: cannot put {} back to {}: {}", path, value, e.getMessage());
            }
        });
        sysctls.clear();
        delete();
    }

    /** The undo commands now recorded (for tests and status). */
    synchronized List<List<String>> pending() {
        return List.copyOf(undo);
    }

    private void runQuietly(List<String> command) {
        try {
            host.run(command);
        } catch (IOException e) {
            log.debug("routing: undo {} failed (already gone?): {}", String.join(" ", command), e.getMessage());
        }
    }

    private void save() throws IOException {
        Path temp = file.resolveSibling(FILE + ".tmp");
        Files.writeString(temp, JSON.writeValueAsString(new Saved(undo, sysctls)), StandardCharsets.UTF_8);
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void saveQuietly() {
        try {
            save();
        } catch (IOException e) {
            log.warn("routing: cannot save {}: {}", file, e.getMessage());
        }
    }

    private void delete() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("routing: cannot remove {}: {}", file, e.getMessage());
        }
    }

    /** The real host: processes and {@code /proc/sys}. */
    public static final class System implements Host {
        @Override
        public void run(List<String> command) throws IOException {
            output(command);
        }

        @Override
        public String output(List<String> command) throws IOException {
            try {
                Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (process.waitFor() != 0) {
                    throw new IOException(String.join(" ", command) + " failed: " + output.strip());
                }
                return output;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        @Override
        public boolean has(String program) {
            String path = java.lang.System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
            for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public String readSysctl(String path) throws IOException {
            return Files.readString(Path.of(path)).strip();
        }

        @Override
        public void writeSysctl(String path, String value) throws IOException {
            Files.writeString(Path.of(path), value);
        }
    }
}
