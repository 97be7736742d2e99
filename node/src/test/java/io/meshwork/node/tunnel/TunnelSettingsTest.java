package io.meshwork.node.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TunnelSettingsTest {

    @Test
    void theQuietPeriodComesFromItsPropertyWithinBounds() {
        assertEquals(Duration.ofSeconds(12), TunnelSettings.collisionQuiet("PT12S"));
        assertEquals(Duration.ofSeconds(12), TunnelSettings.collisionQuiet(" PT12S "));
        assertEquals(TunnelSettings.DEFAULT_COLLISION_QUIET, TunnelSettings.collisionQuiet(null));
        assertEquals(TunnelSettings.DEFAULT_COLLISION_QUIET, TunnelSettings.collisionQuiet(""));
        assertEquals(TunnelSettings.DEFAULT_COLLISION_QUIET, TunnelSettings.collisionQuiet("12"));
        assertEquals(TunnelSettings.DEFAULT_COLLISION_QUIET, TunnelSettings.collisionQuiet("PT0.5S"));
        assertEquals(TunnelSettings.DEFAULT_COLLISION_QUIET, TunnelSettings.collisionQuiet("PT11M"));
        assertEquals(TunnelSettings.DEFAULT_COLLISION_QUIET, TunnelSettings.collisionQuiet("-PT12S"));
    }

    @Test
    void theQuietPeriodDoublesPerFurtherCollisionUpToEightTimes() {
        TunnelSettings settings = TunnelSettings.defaults();
        Duration quiet = settings.collisionQuiet();
        assertEquals(quiet, settings.collisionQuietAfter(1));
        assertEquals(quiet.multipliedBy(2), settings.collisionQuietAfter(2));
        assertEquals(quiet.multipliedBy(8), settings.collisionQuietAfter(4));
        assertEquals(quiet.multipliedBy(8), settings.collisionQuietAfter(9));
    }
}
