package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.optionalAttribute;

import com.typesafe.config.Config;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.net.Prefix;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Where a request comes from (docs/operations.md, "Behind a proxy"): the address of its connection, unless that is
 * one of {@code meshwork.control.trusted-proxies}; then the rightmost {@code X-Forwarded-For} hop that is not a
 * trusted proxy, as each proxy appends the address it was connected from. Anyone may send the header, so it counts
 * only from a trusted proxy, and only the hops trusted proxies appended: the hops left of the first untrusted one are
 * what that client wrote. The rate limits ({@link RateLimits}) key on this address.
 */
final class ClientAddress {

    /** Hops read from the right at most; a longer chain is cut there. */
    static final int MAX_HOPS = 32;
    private static final String FORWARDED_FOR = "x-forwarded-for";

    /** A request's source: {@code address} the client's, {@code viaProxy} when a trusted proxy connected. */
    record Source(InetAddress address, boolean viaProxy, RemoteAddress connection) {}

    private final List<Prefix> trustedProxies;

    ClientAddress(List<Prefix> trustedProxies) {
        this.trustedProxies = List.copyOf(trustedProxies);
    }

    /**
     * Reads {@code meshwork.control.trusted-proxies}: CIDRs, or single addresses.
     *
     * @throws IllegalArgumentException naming an entry that is neither
     */
    static ClientAddress from(Config config) {
        String key = "meshwork.control.trusted-proxies";
        if (!config.hasPath(key)) {
            return new ClientAddress(List.of());
        }
        List<Prefix> prefixes = new ArrayList<>();
        for (String entry : config.getStringList(key)) {
            try {
                prefixes.add(Prefix.parseAddressOrPrefix(entry.strip()));
            } catch (InvalidAddressException e) {
                throw new IllegalArgumentException(key + ": " + e.getMessage());
            }
        }
        return new ClientAddress(prefixes);
    }

    boolean isTrusted(InetAddress address) {
        for (Prefix prefix : trustedProxies) {
            if (prefix.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The client behind {@code peer} (the connection's address), given the request's {@code X-Forwarded-For}
     * values in order: {@code peer} itself unless it is trusted; else the hops from the right, skipping trusted
     * ones, up to the first that is not. A hop that is no IP address ends the walk at the last trusted address
     * (whoever wrote it is not to be believed); so does a chain of only trusted proxies, at its leftmost.
     */
    InetAddress client(InetAddress peer, List<String> forwardedFor) {
        if (!isTrusted(peer)) {
            return peer;
        }
        List<String> hops = new ArrayList<>();
        for (String value : forwardedFor) {
            for (String hop : value.split(",", -1)) {
                hops.add(hop.strip());
            }
        }
        InetAddress client = peer;
        for (int i = hops.size() - 1, read = 0; i >= 0 && read < MAX_HOPS; i--, read++) {
            InetAddress hop;
            try {
                hop = IpLiteral.parse(hops.get(i));
            } catch (InvalidAddressException e) {
                return client;
            }
            client = hop;
            if (!isTrusted(hop)) {
                return hop;
            }
        }
        return client;
    }

    /** Runs {@code inner} with the request's {@link Source}. */
    Route source(Function<Source, Route> inner) {
        return optionalAttribute(AttributeKeys.remoteAddress, remote -> extractRequest(request -> {
            RemoteAddress connection = remote.orElse(RemoteAddress.create(new byte[4]));
            InetAddress peer = connection.getAddress().orElse(null);
            if (peer == null || !isTrusted(peer)) {
                return inner.apply(new Source(peer, false, connection));
            }
            List<String> forwardedFor = new ArrayList<>();
            for (HttpHeader header : request.getHeaders()) {
                if (header.lowercaseName().equals(FORWARDED_FOR)) {
                    forwardedFor.add(header.value());
                }
            }
            return inner.apply(new Source(client(peer, forwardedFor), true, connection));
        }));
    }
}
