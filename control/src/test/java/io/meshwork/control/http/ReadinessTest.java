package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.control.ControlServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code /ready} reads the journal's tables: a member whose schema went missing says so with a 503. */
class ReadinessTest {

    @Test
    void readyIs503NamingTheMissingTableWhileTheJournalSchemaIsGone() throws Exception {
        Path data = Files.createTempDirectory("mwc-ready");
        // Every probe checks afresh, so the test need not wait out a reused answer.
        try (ControlServer server = ControlApiTest.startServer(data, Map.of("meshwork.control.ready-check-interval",
                "0s"))) {
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();
            ControlApiTest.Answer ready = ControlApiTest.call(base, "GET", "/ready", null, null);
            assertEquals(200, ready.status(), String.valueOf(ready.body()));
            assertEquals("ready", ready.body().get("status").asText());

            // The same embedded database the member uses (same URL, same JVM).
            try (Connection connection = DriverManager.getConnection(
                    "jdbc:h2:file:" + data + "/meshwork;DB_CLOSE_DELAY=-1", "sa", "");
                    Statement statement = connection.createStatement()) {
                statement.execute("ALTER TABLE \"event_journal\" RENAME TO \"event_journal_away\"");
                ControlApiTest.Answer missing = ControlApiTest.call(base, "GET", "/ready", null, null);
                assertEquals(503, missing.status(), String.valueOf(missing.body()));
                String error = missing.body().get("error").asText();
                assertTrue(error.contains("\"event_journal\"") && error.contains("missing"), error);

                statement.execute("ALTER TABLE \"event_journal_away\" RENAME TO \"event_journal\"");
                assertEquals(200, ControlApiTest.call(base, "GET", "/ready", null, null).status());

                statement.execute("ALTER TABLE \"snapshot\" RENAME TO \"snapshot_away\"");
                ControlApiTest.Answer noSnapshots = ControlApiTest.call(base, "GET", "/ready", null, null);
                assertEquals(503, noSnapshots.status());
                assertTrue(noSnapshots.body().get("error").asText().contains("\"snapshot\""),
                        noSnapshots.body().toString());
                statement.execute("ALTER TABLE \"snapshot_away\" RENAME TO \"snapshot\"");
            }
            assertEquals(200, ControlApiTest.call(base, "GET", "/ready", null, null).status());
        }
    }
}
