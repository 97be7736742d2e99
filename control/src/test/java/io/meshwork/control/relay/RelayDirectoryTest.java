package io.meshwork.control.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RelayDirectoryTest {

    private static final String PIN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private static final ActorTestKit TEST_KIT =
            ActorTestKit.create(
                    EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.parseString(
                            "pekko.actor.provider = local\n"
                                    + "pekko.actor.serialization-bindings {\"io.meshwork.control.CborSerializable\" = jackson-cbor}"))
                            .withFallback(ConfigFactory.load()));

    private EventSourcedBehaviorTestKit<RelayDirectory.Command, RelayDirectory.Event, RelayDirectory.State> directory;

    @BeforeEach
    void fresh() {
        directory = EventSourcedBehaviorTestKit.create(TEST_KIT.system(), RelayDirectory.create());
        directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.IssueToken("t1", "hash", "edge", 1000, replyTo));
    }

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private RelayDirectory.Reply enroll(String relayId, String tlsSha256) {
        return directory.<RelayDirectory.Reply>runCommand(replyTo -> new RelayDirectory.Enroll("t1", "hash", relayId,
                "192.0.2.1:3340", "192.0.2.1:443", List.of(), tlsSha256, 2000, replyTo)).reply();
    }

    @Test
    void revokingATokenOrRemovingARelayTakesBothAwayForGood() {
        enroll("r1", PIN);
        directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.IssueToken("t2", "hash2", "other", 1000, replyTo));
        directory.<RelayDirectory.Reply>runCommand(replyTo -> new RelayDirectory.Enroll("t2", "hash2", "r2",
                "192.0.2.2:3340", null, List.of(), null, 2000, replyTo));

        var revoked = directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.RevokeToken("t1", replyTo));
        assertEquals(200, revoked.reply().status());
        assertEquals(new RelayDirectory.TokenRevoked("t1"), revoked.event());
        var removed = directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.RemoveRelay("r2", replyTo));
        assertEquals(200, removed.reply().status());
        directory.restart();
        assertEquals(Map.of(), directory.getState().tokens());
        assertEquals(Map.of(), directory.getState().relays());
        assertEquals(401, enroll("r1", PIN).status(), "the revoked token enrolls nothing");
        assertEquals(404, directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.RevokeToken("t1", replyTo)).reply().status());
        assertEquals(404, directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.RemoveRelay("r2", replyTo)).reply().status());
        assertEquals(404, directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.ReportHealth("r1", 0, 0, true, 3000, replyTo)).reply().status());
    }

    @Test
    void serialsAreRevokedTogetherAndOnlyOnce() {
        directory.<RelayDirectory.Reply>runCommand(replyTo -> new RelayDirectory.RevokeSerial("a1", replyTo));
        var many = directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.RevokeSerials(Set.of("a1", "b2", "c3"), replyTo));
        assertEquals(200, many.reply().status());
        assertEquals(new RelayDirectory.SerialsRevoked(List.of("b2", "c3")), many.event());
        var again = directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.RevokeSerials(Set.of("b2", "c3"), replyTo));
        assertEquals(200, again.reply().status());
        assertEquals(true, again.hasNoEvents(), "nothing new to revoke writes nothing");
        directory.restart();
        assertEquals(Set.of("a1", "b2", "c3"), directory.getState().revokedSerials());
    }

    @Test
    void thePinIsKeptThroughHeartbeatsAndRecovery() {
        assertEquals(PIN, enroll("r1", PIN).relay().tlsSha256());
        directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.ReportHealth("r1", 3, 4, true, 3000, replyTo));
        directory.restart();
        RelayDirectory.RelayRecord relay = directory.getState().relays().get("r1");
        assertEquals(PIN, relay.tlsSha256());
        assertEquals(4, relay.tcpClients());
    }

    @Test
    void aRegionComesFromTheTokenAndSurvivesHeartbeatsAndRecovery() throws Exception {
        directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.IssueToken("t2", "hash2", "fra1", "eu-central", 1000, replyTo));
        RelayDirectory.Reply enrolled = directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.Enroll("t2", "hash2", "r2", "192.0.2.2:3340", null, List.of(), null, 2000,
                        replyTo)).reply();
        assertEquals("eu-central", enrolled.relay().region());
        assertNull(enroll("r1", null).relay().region(), "a token without a region");
        directory.<RelayDirectory.Reply>runCommand(replyTo ->
                new RelayDirectory.ReportHealth("r2", 1, 0, true, 3000, replyTo));
        directory.restart();
        assertEquals("eu-central", directory.getState().relays().get("r2").region());

        Serialization serialization = SerializationExtension.get(TEST_KIT.system());
        ObjectMapper cbor = JacksonObjectMapperProvider.get(TEST_KIT.system()).getOrCreate("jackson-cbor", Optional.empty());
        RelayDirectory.TokenIssued probe = new RelayDirectory.TokenIssued("t", "h", "n", 1, null);
        byte[] oldEvent = cbor.writeValueAsBytes(Map.of("tokenId", "t9", "secretHash", "h", "name", "old",
                "atMillis", 5));
        RelayDirectory.TokenIssued old = (RelayDirectory.TokenIssued) serialization.deserialize(oldEvent,
                serialization.findSerializerFor(probe).identifier(),
                Serializers.manifestFor(serialization.findSerializerFor(probe), probe)).get();
        assertEquals("old", old.name());
        assertNull(old.region(), "tokens issued before regions read as having none");
    }

    @Test
    void reEnrollingWithoutTlsDropsThePin() {
        enroll("r1", PIN);
        assertNull(enroll("r2", null).relay().tlsSha256());
        assertEquals(Set.of("r1"), directory.getState().relays().keySet(), "the token keeps its relay id");
    }

    @Test
    void eventsAndSnapshotsWrittenBeforeThePinExistedStillRead() throws Exception {
        Serialization serialization = SerializationExtension.get(TEST_KIT.system());
        ObjectMapper cbor = JacksonObjectMapperProvider.get(TEST_KIT.system()).getOrCreate("jackson-cbor", Optional.empty());
        RelayDirectory.RelayEnrolled probe = new RelayDirectory.RelayEnrolled("r1", "t1", "edge", null, null,
                List.of(), 1, null);
        int serializerId = serialization.findSerializerFor(probe).identifier();

        byte[] oldEvent = cbor.writeValueAsBytes(Map.of("relayId", "r1", "tokenId", "t1", "name", "edge",
                "udp", "192.0.2.1:3340", "tcp", "192.0.2.1:3340", "stun", List.of(), "atMillis", 5));
        RelayDirectory.RelayEnrolled event = (RelayDirectory.RelayEnrolled) serialization.deserialize(oldEvent,
                serializerId, Serializers.manifestFor(serialization.findSerializerFor(probe), probe)).get();
        assertEquals("192.0.2.1:3340", event.tcp());
        assertNull(event.tlsSha256());

        Map<String, Object> oldRelay = Map.of("id", "r1", "name", "edge", "tcp", "192.0.2.1:3340", "stun", List.of(),
                "udpClients", 0, "tcpClients", 1, "healthy", true, "enrolledMillis", 5, "lastHeartbeatMillis", 6);
        byte[] oldSnapshot = cbor.writeValueAsBytes(Map.of("tokens", Map.of(), "relays", Map.of("r1", oldRelay),
                "revokedSerials", List.of()));
        RelayDirectory.State empty = new RelayDirectory.State(Map.of(), Map.of(), Set.of());
        RelayDirectory.State state = (RelayDirectory.State) serialization.deserialize(oldSnapshot, serializerId,
                Serializers.manifestFor(serialization.findSerializerFor(empty), empty)).get();
        assertEquals(1, state.relays().get("r1").tcpClients());
        assertNull(state.relays().get("r1").tlsSha256());
    }

    @Test
    void pinsAreNormalizedAndCheckedForShape() {
        assertNull(TlsPin.normalize(null));
        assertNull(TlsPin.normalize("  "));
        assertEquals(PIN, TlsPin.normalize(PIN.toUpperCase()));
        StringBuilder colons = new StringBuilder();
        for (int i = 0; i < PIN.length(); i += 2) {
            colons.append(i == 0 ? "" : ":").append(PIN, i, i + 2);
        }
        assertEquals(PIN, TlsPin.normalize(colons.toString().toUpperCase()));
        assertThrows(IllegalArgumentException.class, () -> TlsPin.normalize(PIN.substring(2)));
        assertThrows(IllegalArgumentException.class, () -> TlsPin.normalize(PIN.replace('a', 'g')));
        assertThrows(IllegalArgumentException.class, () -> TlsPin.normalize(PIN + "00"));
    }
}
