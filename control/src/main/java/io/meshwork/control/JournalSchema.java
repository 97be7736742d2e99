package io.meshwork.control;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.db.SlickDatabase;
import org.apache.pekko.persistence.jdbc.db.SlickExtension;
import org.apache.pekko.persistence.jdbc.db.SlickExtensionImpl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the journal's tables are there, for {@code /ready}: a query that reads no row from the event journal and
 * the snapshot table, through the journal's own connection pool. A member whose tables were dropped, or that points
 * at a database without them, is not ready (docs/operations.md). The answer is reused for
 * {@code meshwork.control.ready-check-interval}, so probes do not cost a query each, and a database that does not
 * answer within {@link #TIMEOUT} is reported as such rather than holding the probe.
 */
final class JournalSchema implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final Logger log = LoggerFactory.getLogger(JournalSchema.class);

    private final SlickDatabase database;
    private final List<String> tables;
    private final long reuseNanos;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "meshwork-journal-schema-check");
        thread.setDaemon(true);
        return thread;
    });
    private CompletableFuture<String> last;
    private long lastStartedNanos;

    JournalSchema(ActorSystem<?> system, Config config, Duration reuse) {
        this.database = ((SlickExtensionImpl) SlickExtension.get(system)).database(config.getConfig("jdbc-journal"));
        this.tables = List.of(
                table(config.getConfig("jdbc-journal.tables.event_journal")),
                table(config.getConfig("jdbc-snapshot-store.tables.snapshot")));
        this.reuseNanos = reuse.toNanos();
    }

    /** {@code "schema"."table"}, or {@code "table"} in the connection's default schema. */
    private static String table(Config table) {
        String name = quoted(table.getString("tableName"));
        String schema = table.getString("schemaName");
        return schema.isBlank() ? name : quoted(schema) + "." + name;
    }

    private static String quoted(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /** Null when the tables are there, else what is wrong; from a check at most the reuse interval old. */
    synchronized CompletionStage<String> problem() {
        long now = System.nanoTime();
        if (last == null || last.isDone() && now - lastStartedNanos >= reuseNanos) {
            lastStartedNanos = now;
            last = CompletableFuture.supplyAsync(this::check, executor)
                    .completeOnTimeout("the journal database did not answer within " + TIMEOUT.toSeconds() + " s",
                            TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .exceptionally(failure -> "the journal database could not be checked: " + failure);
        }
        return last;
    }

    /** The answer names the table; what the database said goes to the log only, not to whoever asks /ready. */
    private String check() {
        try (Connection connection = database.database().source().createConnection();
                Statement statement = connection.createStatement()) {
            statement.setQueryTimeout((int) TIMEOUT.toSeconds());
            for (String table : tables) {
                try {
                    statement.executeQuery("SELECT 1 FROM " + table + " WHERE 1 = 0").close();
                } catch (SQLException e) {
                    log.warn("the journal table {} cannot be read: {}", table, e.getMessage());
                    return "the journal table " + table + " is missing or cannot be read";
                }
            }
            return null;
        } catch (SQLException e) {
            log.warn("the journal database is unreachable: {}", e.getMessage());
            return "the journal database is unreachable";
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
