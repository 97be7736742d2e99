package io.meshwork.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What control's own HTTP keys become in Pekko HTTP's settings. */
class ControlConfigurationTest {

    @Test
    void theListenerHoldsManyNodesAndQueuesAReconnectStorm() {
        Config config = ControlServer.configuration(ConfigFactory.empty());
        assertEquals(16_384, config.getInt("pekko.http.server.max-connections"));
        assertEquals(4_096, config.getInt("pekko.http.server.backlog"));
        assertEquals(65_536, config.getBytes("pekko.http.server.parsing.max-content-length"));
    }

    @Test
    void operatorsSetThemUnderMeshworkControlHttp() {
        Config config = ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                "meshwork.control.http.max-connections", 50_000, "meshwork.control.http.backlog", 512)));
        assertEquals(50_000, config.getInt("pekko.http.server.max-connections"));
        assertEquals(512, config.getInt("pekko.http.server.backlog"));
    }

    @Test
    void aBoundBelowOneIsRefusedNamingTheKey() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                        "meshwork.control.http.backlog", 0))));
        assertTrue(refused.getMessage().contains("meshwork.control.http.backlog"), refused.getMessage());
    }
}
