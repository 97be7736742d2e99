package io.meshwork.relay.auth;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds a {@link RevocationList} from a text file for relays run without control: one certificate serial
 * per line in hex, {@code #} starts a comment. The file is re-read whenever its modification time changes; a
 * file that cannot be read or parsed leaves the list as it was.
 */
public final class RevocationFile implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RevocationFile.class);

    private final Path file;
    private final RevocationList list;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "relay-revocation-file");
        thread.setDaemon(true);
        return thread;
    });
    private FileTime lastModified;

    private RevocationFile(Path file, RevocationList list) {
        this.file = file;
        this.list = list;
    }

    /** Loads the file now (failing if it is unreadable) and then watches it every {@code interval}. */
    public static RevocationFile watch(Path file, RevocationList list, Duration interval) throws IOException {
        RevocationFile watcher = new RevocationFile(file, list);
        watcher.lastModified = Files.getLastModifiedTime(file);
        list.replace(parse(Files.readAllLines(file)));
        watcher.executor.scheduleWithFixedDelay(watcher::reloadIfChanged, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
        return watcher;
    }

    private void reloadIfChanged() {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            if (!modified.equals(lastModified)) {
                list.replace(parse(Files.readAllLines(file)));
                lastModified = modified;
                log.info("revocation list reloaded from {}: {} serials", file, list.serials().size());
            }
        } catch (IOException | NumberFormatException e) {
            log.warn("cannot reload revocations from {}: {}", file, e.getMessage());
        }
    }

    static Set<BigInteger> parse(Iterable<String> lines) {
        Set<BigInteger> serials = new HashSet<>();
        for (String line : lines) {
            int comment = line.indexOf('#');
            String serial = (comment >= 0 ? line.substring(0, comment) : line).strip();
            if (!serial.isEmpty()) {
                serials.add(new BigInteger(serial, 16));
            }
        }
        return serials;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
