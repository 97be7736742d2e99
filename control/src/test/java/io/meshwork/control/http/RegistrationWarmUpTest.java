package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.meshwork.control.ControlServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The warm-up a member runs before its listener binds (meshwork.control.warm-up): it runs the registration path's
 * code, its requests are all refused before they reach the cluster, and it leaves nothing behind: the journal holds
 * what a member without a warm-up writes at start, no organization appears, and real registrations from any
 * address go through afterwards.
 */
class RegistrationWarmUpTest {

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void theWarmUpRunsTheRegistrationPathAndWritesNothing() throws Exception {
        Set<String> withoutWarmUp;
        Path cold = Files.createTempDirectory("mwc-nowarm");
        try (ControlServer server = ControlApiTest.startServer(cold, Map.of("meshwork.control.warm-up", "0s"))) {
            assertEquals(0, server.warmUp().certificates(), "warm-up 0s: none");
            withoutWarmUp = persistenceIds(cold);
        }

        Path data = Files.createTempDirectory("mwc-warm");
        try (ControlServer server = ControlApiTest.startServer(data, Map.of("meshwork.control.warm-up", "1s"))) {
            RegistrationWarmUp.Done done = server.warmUp();
            assertTrue(done.certificates() > 0 && done.codecRounds() > 0 && done.requests() > 0, done.toString());
            assertEquals(done.requests(), done.refused(), "every warm-up request is refused with 400: " + done);

            assertEquals(withoutWarmUp, persistenceIds(data), "the journal holds what a start without warm-up writes");
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();
            assertEquals(404, ControlApiTest.call(base, "GET", "/api/v1/organizations/o000000000000",
                    ControlApiTest.ADMIN, null).status(), "the warm-up's organization id is no organization");

            // A registration afterwards is answered as ever (the warm-up took no rate-limit budget).
            String org = ControlApiTest.call(base, "POST", "/api/v1/organizations", ControlApiTest.ADMIN,
                    "{\"name\":\"after-warm-up\"}").body().get("id").asText();
            String key = ControlApiTest.call(base, "POST", "/api/v1/organizations/" + org + "/keys",
                    ControlApiTest.ADMIN, "{\"reusable\":true}").body().get("key").asText();
            byte[] publicKey = new byte[32];
            publicKey[0] = 9;
            ControlApiTest.Answer registered = ControlApiTest.call(base, "POST", "/api/v1/register", key,
                    "{\"publicKey\":\"" + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"w\"}");
            assertEquals(201, registered.status(), registered.body().toString());
            String listed = ControlApiTest.call(base, "GET", "/api/v1/organizations", ControlApiTest.ADMIN, null)
                    .body().toString();
            assertTrue(listed.contains(org) && !listed.contains("o000000000000"), listed);
        }
    }

    /** The persistence ids in the member's journal, entity ids left out (the CA's and directories' are fixed). */
    private static Set<String> persistenceIds(Path data) throws Exception {
        Config config = ControlServer.configuration(com.typesafe.config.ConfigFactory.parseMap(
                Map.of("meshwork.control.data-dir", data.toString())));
        Config db = config.getConfig("pekko-persistence-jdbc.shared-databases.slick.db");
        Set<String> ids = new TreeSet<>();
        try (Connection connection = DriverManager.getConnection(db.getString("url"), db.getString("user"),
                db.getString("password")); Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("select distinct \"persistence_id\" from \"event_journal\"")) {
            while (result.next()) {
                ids.add(result.getString(1));
            }
        }
        return ids;
    }
}
