package io.meshwork.protocol.path;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwork.protocol.path.PathPolicy.Candidate;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PathPolicyTest {

    private static final long NOW = Duration.ofSeconds(100).toNanos();
    private static final InetSocketAddress LAN = new InetSocketAddress("192.168.1.20", 51820);
    private static final InetSocketAddress PUBLIC = new InetSocketAddress("198.51.100.12", 40112);
    private static final InetSocketAddress OTHER = new InetSocketAddress("203.0.113.7", 41000);
    private static final InetSocketAddress IPV6 = new InetSocketAddress("2001:db8:2::10", 51820);

    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of("nothing answered", List.of(), null, null),
                Arguments.of("one fresh endpoint", List.of(pub(PUBLIC, 30, 1)), null, PUBLIC),
                Arguments.of("stale endpoints do not count", List.of(pub(PUBLIC, 30, 7)), null, null),
                Arguments.of("lowest round trip wins", List.of(pub(PUBLIC, 30, 1), pub(OTHER, 10, 1)), null, OTHER),
                Arguments.of("LAN wins a near tie", List.of(lan(LAN, 8, 1), pub(PUBLIC, 5, 1)), null, LAN),
                Arguments.of("LAN bonus is bounded", List.of(lan(LAN, 40, 1), pub(PUBLIC, 5, 1)), null, PUBLIC),
                Arguments.of("incumbent kept when challenger only slightly better",
                        List.of(pub(PUBLIC, 30, 1), pub(OTHER, 27, 1)), PUBLIC, PUBLIC),
                Arguments.of("incumbent replaced when challenger clearly better",
                        List.of(pub(PUBLIC, 30, 1), pub(OTHER, 10, 1)), PUBLIC, OTHER),
                Arguments.of("small absolute gains do not switch",
                        List.of(pub(PUBLIC, 3, 1), pub(OTHER, 2, 1)), PUBLIC, PUBLIC),
                Arguments.of("stale incumbent replaced", List.of(pub(PUBLIC, 1, 9), pub(OTHER, 50, 1)), PUBLIC, OTHER),
                Arguments.of("current unknown to the candidates", List.of(pub(OTHER, 50, 1)), PUBLIC, OTHER),
                Arguments.of("IPv6 wins an equal round trip", List.of(pub(PUBLIC, 20, 1), pub(IPV6, 20, 1)), null,
                        IPV6),
                Arguments.of("IPv6 wins a near tie", List.of(pub(PUBLIC, 20, 1), pub(IPV6, 21, 1)), null, IPV6),
                Arguments.of("IPv6 bonus is bounded", List.of(pub(PUBLIC, 20, 1), pub(IPV6, 30, 1)), null, PUBLIC),
                Arguments.of("LAN still beats IPv6 of equal round trip", List.of(lan(LAN, 2, 1), pub(IPV6, 2, 1)),
                        null, LAN));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void choosesByLatencyLanBonusHysteresisAndStaleness(String name, List<Candidate> candidates,
            InetSocketAddress current, InetSocketAddress expected) {
        Optional<Candidate> chosen = PathPolicy.choose(candidates, current, NOW, PathPolicy.Settings.defaults());
        assertEquals(Optional.ofNullable(expected), chosen.map(Candidate::endpoint), name);
    }

    private static Candidate pub(InetSocketAddress endpoint, long rttMillis, long ageSeconds) {
        return new Candidate(endpoint, false, Duration.ofMillis(rttMillis), NOW - Duration.ofSeconds(ageSeconds).toNanos());
    }

    private static Candidate lan(InetSocketAddress endpoint, long rttMillis, long ageSeconds) {
        return new Candidate(endpoint, true, Duration.ofMillis(rttMillis), NOW - Duration.ofSeconds(ageSeconds).toNanos());
    }
}
