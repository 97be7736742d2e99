package io.meshwork.control.http;

import static io.meshwork.control.http.ControlApiTest.ADMIN;
import static io.meshwork.control.http.ControlApiTest.call;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwork.control.ControlServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The production storage path: a real PostgreSQL (Debian's, started by bin/test), schema created at start,
 * and what was acknowledged is there after the control process restarts. Skips, saying why, when no server
 * answers at MESHWORK_TEST_PG_URL (default jdbc:postgresql://127.0.0.1:5432/meshwork, user/password meshwork).
 */
class PostgresPersistenceTest {

    private static final String URL = System.getenv().getOrDefault("MESHWORK_TEST_PG_URL",
            "jdbc:postgresql://127.0.0.1:5432/meshwork");

    @BeforeAll
    static void needsPostgres() {
        try (Connection connection = DriverManager.getConnection(URL, "meshwork", "meshwork")) {
            Assumptions.assumeTrue(connection.isValid(5));
        } catch (Exception e) {
            Assumptions.abort("PostgreSQL test skipped: no server at " + URL + " (" + e.getMessage()
                    + "); bin/test starts one as root");
        }
    }

    private static ControlServer start(Path data) throws Exception {
        return ControlApiTest.startServer(data, Map.of("meshwork.control.database", "postgres",
                "meshwork.control.postgres.url", URL));
    }

    @Test
    void registrationsSurviveARestartOnPostgres() throws Exception {
        Path data = Files.createTempDirectory("mwc-pg");
        String deviceId;
        String organizationId;
        try (ControlServer first = start(data)) {
            String base = "http://127.0.0.1:" + first.httpAddress().getPort();
            organizationId = call(base, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"pg\"}").body()
                    .get("id").asText();
            String key = call(base, "POST", "/api/v1/organizations/" + organizationId + "/keys", ADMIN,
                    "{\"reusable\":true}").body().get("key").asText();
            byte[] publicKey = new byte[32];
            publicKey[5] = 77;
            deviceId = call(base, "POST", "/api/v1/register", key, "{\"publicKey\":\""
                    + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"on-postgres\"}").body()
                    .get("id").asText();
        }
        try (Connection connection = DriverManager.getConnection(URL, "meshwork", "meshwork");
                ResultSet rows = connection.createStatement().executeQuery(
                        "select count(*) from event_journal where persistence_id = 'Organization|" + organizationId + "'")) {
            rows.next();
            assertEquals(3, rows.getInt(1), "created, key created, device registered: three events in PostgreSQL");
        }
        try (ControlServer second = start(data)) {
            String base = "http://127.0.0.1:" + second.httpAddress().getPort();
            assertEquals("on-postgres", call(base, "GET", "/api/v1/devices/" + deviceId, ADMIN, null).body()
                    .get("hostname").asText());
        }
    }
}
