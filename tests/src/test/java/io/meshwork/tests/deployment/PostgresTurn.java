package io.meshwork.tests.deployment;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One deployment test at a time on the shared test database. The tests module runs its classes in two JVMs at once
 * (see its pom), and the clusters of two deployment tests would write the same persistence ids (the organization
 * directory, say) into one journal. A test class extended with this holds an exclusive lock on a file in the
 * temporary directory from before each test until after it, its clean-up included; the other JVM waits for it.
 */
final class PostgresTurn implements BeforeEachCallback, AfterEachCallback {

    private static final Path LOCK = Path.of(System.getProperty("java.io.tmpdir"), "meshwork-test-postgres.lock");
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(PostgresTurn.class);

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        FileChannel channel = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            FileLock lock = channel.lock();
            context.getStore(NAMESPACE).put(FileLock.class, lock);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        FileLock lock = context.getStore(NAMESPACE).remove(FileLock.class, FileLock.class);
        if (lock != null) {
            try (FileChannel channel = lock.channel()) {
                lock.release();
            }
        }
    }
}
