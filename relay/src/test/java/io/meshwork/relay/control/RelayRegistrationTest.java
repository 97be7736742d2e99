package io.meshwork.relay.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.relay.auth.RevocationList;
import io.meshwork.relay.auth.VerifiedDevice;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the relay tells control it observed: endpoints written as every other part of meshwork writes them. */
class RelayRegistrationTest {

    @Test
    void observedEndpointsReachControlInTheOneEndpointForm() {
        List<ControlPlane.Observation> reported = new ArrayList<>();
        ControlPlane control = new ControlPlane() {
            @Override
            public Enrollment register(Advertisement advertisement) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void reportHealth(String relayId, Health health) {
            }

            @Override
            public Set<BigInteger> revokedSerials(String relayId) {
                return Set.of();
            }

            @Override
            public void reportObservations(String relayId, List<Observation> observations) {
                reported.addAll(observations);
            }
        };
        RelayRegistration registration = new RelayRegistration(control, "r1", new RevocationList(),
                () -> new ControlPlane.Health(0, 0, true));
        VerifiedDevice device = new VerifiedDevice("org.d1", "org", RelayKey.of(new byte[32]), BigInteger.ONE,
                Instant.now().plusSeconds(60));
        registration.sessionOpened(device, Transport.UDP,
                new InetSocketAddress(IpLiteral.parse("2001:db8:0:0:0:0:0:7"), 41641));
        registration.sessionOpened(device, Transport.TCP, new InetSocketAddress(IpLiteral.parse("198.51.100.7"), 5));
        registration.beat();
        registration.close();
        assertEquals(List.of("[2001:db8::7]:41641", "198.51.100.7:5"),
                reported.stream().map(ControlPlane.Observation::address).toList());
        assertEquals(List.of("udp", "tcp"), reported.stream().map(ControlPlane.Observation::transport).toList());
    }
}
