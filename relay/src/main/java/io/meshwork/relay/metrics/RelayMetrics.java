package io.meshwork.relay.metrics;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.relay.server.DropReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The relay's counters and gauges, exported in the Prometheus text format: connected clients by transport,
 * frames and bytes forwarded by (ingress, egress) transport, drops by {@link DropReason}, authentications by
 * {@link AuthStatus}. Counters are created up front so the forwarding path never looks one up by name.
 */
public final class RelayMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter[][] forwardedFrames = new Counter[2][2];
    private final Counter[][] forwardedBytes = new Counter[2][2];
    private final Map<DropReason, Counter> drops = new EnumMap<>(DropReason.class);
    private final Map<AuthStatus, Counter> authentications = new EnumMap<>(AuthStatus.class);

    public RelayMetrics() {
        for (Transport from : Transport.values()) {
            for (Transport to : Transport.values()) {
                forwardedFrames[from.ordinal()][to.ordinal()] = Counter.builder("meshwork.relay.forwarded.frames")
                        .description("Frames forwarded between clients")
                        .tag("from", label(from)).tag("to", label(to)).register(registry);
                forwardedBytes[from.ordinal()][to.ordinal()] = Counter.builder("meshwork.relay.forwarded.payload")
                        .description("Payload bytes forwarded between clients")
                        .baseUnit("bytes").tag("from", label(from)).tag("to", label(to)).register(registry);
            }
        }
        for (DropReason reason : DropReason.values()) {
            drops.put(reason, Counter.builder("meshwork.relay.drops")
                    .description("Frames and datagrams dropped, by reason")
                    .tag("reason", reason.label()).register(registry));
        }
        for (AuthStatus status : AuthStatus.values()) {
            authentications.put(status, Counter.builder("meshwork.relay.authentications")
                    .description("Authentication attempts, by outcome")
                    .tag("status", status.name().toLowerCase(Locale.ROOT)).register(registry));
        }
    }

    /** Registers the connected-clients gauge, read from {@code source} at each scrape. */
    public <T> void clientsGauge(T source, Transport transport, ToDoubleFunction<T> count) {
        Gauge.builder("meshwork.relay.clients", source, count)
                .description("Authenticated clients connected")
                .tag("transport", label(transport)).register(registry);
    }

    public void forwarded(Transport from, Transport to, int payloadBytes) {
        forwardedFrames[from.ordinal()][to.ordinal()].increment();
        forwardedBytes[from.ordinal()][to.ordinal()].increment(payloadBytes);
    }

    public void dropped(DropReason reason) {
        drops.get(reason).increment();
    }

    public void authenticated(AuthStatus status) {
        authentications.get(status).increment();
    }

    public long drops(DropReason reason) {
        return (long) drops.get(reason).count();
    }

    public long forwardedFrames(Transport from, Transport to) {
        return (long) forwardedFrames[from.ordinal()][to.ordinal()].count();
    }

    public long authentications(AuthStatus status) {
        return (long) authentications.get(status).count();
    }

    /** The Prometheus text exposition of every metric. */
    public String scrape() {
        return registry.scrape();
    }

    private static String label(Transport transport) {
        return transport.name().toLowerCase(Locale.ROOT);
    }
}
