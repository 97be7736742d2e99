package io.meshwork.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stock coturn {@code turnserver} as a STUN-only peer (docs/architecture.md, "Simulation and lab"). With two
 * listening addresses it speaks RFC 5780: it reports OTHER-ADDRESS and answers CHANGE-REQUEST, the alternate port being
 * {@code port + 1}. Its files (an empty user database, the pid file) are in a temporary directory that {@link #close()}
 * removes.
 */
public final class Coturn implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Coturn.class);

    private final LabProcess process;
    private final Path directory;
    private final List<String> addresses;
    private final int port;

    private Coturn(LabProcess process, Path directory, List<String> addresses, int port) {
        this.process = process;
        this.directory = directory;
        this.addresses = addresses;
        this.port = port;
    }

    /** Starts coturn in {@code host} on {@code port} at each of {@code addresses}, and waits until it listens. */
    public static Coturn start(Host host, int port, String... addresses) {
        Path directory;
        try {
            directory = Files.createTempDirectory("coturn-");
            Files.writeString(directory.resolve("users"), "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>(List.of("turnserver", "-n", "--stun-only", "--no-tls", "--no-dtls",
                "--no-cli", "--listening-port", Integer.toString(port),
                "--userdb=" + directory.resolve("users.db"),
                "--pidfile=" + directory.resolve("turnserver.pid"),
                "--log-file=stdout", "--simple-log"));
        for (String address : addresses) {
            command.add("-L");
            command.add(address);
        }
        LabProcess process;
        try {
            process = host.spawn("turnserver", command);
        } catch (RuntimeException e) {
            remove(directory);
            throw e;
        }
        Coturn coturn = new Coturn(process, directory, List.of(addresses), port);
        try {
            coturn.awaitListening(host);
        } catch (RuntimeException e) {
            coturn.close();
            throw e;
        }
        return coturn;
    }

    private void awaitListening(Host host) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        String wanted = addresses.get(0) + ":" + port;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new LabException("turnserver exited: " + process.output());
            }
            if (host.exec("ss", "-Hlun").stdout().contains(wanted)) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LabException("interrupted", e);
            }
        }
        throw new LabException("turnserver is not listening on " + wanted + ": " + process.output());
    }

    /** The primary STUN address: first listening IP, base port. */
    public InetSocketAddress primary() {
        return new InetSocketAddress(addresses.get(0), port);
    }

    public List<String> addresses() {
        return addresses;
    }

    public int port() {
        return port;
    }

    public LabProcess process() {
        return process;
    }

    /** Where its files are, until {@link #close()}. */
    public Path directory() {
        return directory;
    }

    /** Stops coturn and removes its directory. */
    @Override
    public void close() {
        try {
            process.stop();
        } finally {
            remove(directory);
        }
    }

    /** Deletes {@code directory}, deepest entries first. */
    private static void remove(Path directory) {
        try (Stream<Path> entries = Files.walk(directory)) {
            for (Path entry : entries.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(entry);
            }
        } catch (IOException | UncheckedIOException e) {
            log.warn("could not remove coturn's directory {}: {}", directory, e.toString());
        }
    }
}
