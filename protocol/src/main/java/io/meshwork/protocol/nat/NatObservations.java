package io.meshwork.protocol.nat;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a NAT probe saw, as plain data, for {@link NatClassifier}.
 *
 * @param localEndpoints the probing socket's own addresses: its port on each local IP that routes to a
 *        server (a wildcard-bound socket has no single address)
 * @param bindings the Binding transactions, answered or not, in the order they were made (a prober may
 *        leave out a first round it repeated)
 * @param changeIpAndPortAnswered RFC 5780 §4.4 test II: did a request asking the server to answer from
 *        its alternate IP and port get an answer; empty when the test was not run
 * @param changePortAnswered RFC 5780 §4.4 test III: did a request asking for the alternate port only get
 *        an answer; empty when not run
 * @param hairpin did a request sent to our own public endpoint come back to us; empty when not run
 */
public record NatObservations(
        List<InetSocketAddress> localEndpoints,
        List<BindingObservation> bindings,
        Optional<Boolean> changeIpAndPortAnswered,
        Optional<Boolean> changePortAnswered,
        Optional<Boolean> hairpin) {

    public NatObservations {
        localEndpoints = List.copyOf(localEndpoints);
        bindings = List.copyOf(bindings);
        Objects.requireNonNull(changeIpAndPortAnswered, "changeIpAndPortAnswered");
        Objects.requireNonNull(changePortAnswered, "changePortAnswered");
        Objects.requireNonNull(hairpin, "hairpin");
    }
}
