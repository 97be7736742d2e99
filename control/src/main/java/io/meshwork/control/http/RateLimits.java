package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.mapResponse;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeader;

import com.typesafe.config.Config;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Per-source and per-device rate limits (docs/api.md, "Rate limits"; {@code meshwork.control.limits}), each a
 * token bucket, answered {@code 429} with {@code Retry-After} and a JSON error when spent:
 *
 * <ul>
 *   <li>Failed authentication, per source address and kind of credential (none, admin, organization, registration
 *       key, device, relay): every request under {@code /api/v1} takes a token before any work (so unauthenticated
 *       requests such as registrations with made-up keys or relay enrollments with made-up tokens are bounded before
 *       an entity is asked) and gets it back unless it was answered 401 or 403. A client whose credentials work
 *       never runs short; one that keeps failing is held to the rate, and only for that kind of credential, so a
 *       device behind the same address as a key-guessing client keeps its peer stream. The source is the
 *       connection's address, or behind a trusted proxy the client it forwarded for ({@link ClientAddress}).</li>
 *   <li>Endpoint reports, per device, taken once the device token has been checked.</li>
 * </ul>
 *
 * <p>Memory is bounded: each limit keeps at most {@code tracked} buckets, least recently used dropped first (a
 * dropped key starts again with a full burst), in 16 stripes so requests on many threads seldom wait for each
 * other.
 */
final class RateLimits {

    /** The limits; {@link #from} reads {@code meshwork.control.limits}. */
    record Settings(double failedAuthPerSecond, int failedAuthBurst, double reportsPerSecond, int reportsBurst,
            int tracked) {

        /** The defaults of reference.conf, for a configuration without them. */
        static final Settings DEFAULTS = new Settings(10, 50, 1, 10, 65_536);

        static Settings from(Config config) {
            if (!config.hasPath("meshwork.control.limits")) {
                return DEFAULTS;
            }
            Config limits = config.getConfig("meshwork.control.limits");
            return new Settings(limits.getDouble("failed-auth-per-second"), limits.getInt("failed-auth-burst"),
                    limits.getDouble("reports-per-second"), limits.getInt("reports-burst"),
                    limits.getInt("tracked"));
        }
    }

    private final JsonSupport json;
    private final ClientAddress clients;
    private final Buckets failures;
    private final Buckets reports;

    /** {@code clients}: where requests come from, for the per-source limit. */
    RateLimits(Settings settings, ClientAddress clients, JsonSupport json) {
        this.json = json;
        this.clients = clients;
        this.failures = new Buckets(settings.failedAuthPerSecond(), settings.failedAuthBurst(), settings.tracked());
        this.reports = new Buckets(settings.reportsPerSecond(), settings.reportsBurst(), settings.tracked());
    }

    /**
     * Runs {@code inner} when the request's source has failed authentication with this kind of credential less than
     * its limit; else 429. {@code inner} must answer every request itself (exceptions and rejections included), so
     * that its status can be seen.
     */
    Route failedAuthentication(Supplier<Route> inner) {
        return clients.source(source -> optionalHeaderValueByName("Authorization", header -> {
            String key = sourceKey(source.address(), header);
            long waitNanos = failures.take(key, System.nanoTime());
            if (waitNanos > 0) {
                return tooMany(waitNanos, "too many failed authentications from this address; retry later");
            }
            return mapResponse(response -> {
                int status = response.status().intValue();
                if (status != 401 && status != 403) {
                    failures.giveBack(key);
                }
                return response;
            }, inner);
        }));
    }

    /** Runs {@code inner} when device {@code deviceId} has reported its endpoints less than its limit; else 429. */
    Route report(String deviceId, Supplier<Route> inner) {
        long waitNanos = reports.take(deviceId, System.nanoTime());
        return waitNanos > 0 ? tooMany(waitNanos, "too many endpoint reports from this device; retry later")
                : inner.get();
    }

    private Route tooMany(long waitNanos, String message) {
        long seconds = (long) Math.max(1, Math.min(3600, Math.ceil(waitNanos / 1e9)));
        return respondWithHeader(RetryAfter.create(seconds), () -> json.error(429, message));
    }

    /** The source address and the kind of credential (the token's prefix, "admin?" for others, "-" for none). */
    static String sourceKey(InetAddress source, Optional<String> authorization) {
        String address = source == null ? "?" : source.getHostAddress();
        String kind = authorization.filter(h -> h.startsWith("Bearer "))
                .map(h -> TokenKind.parseAny(h.substring(7).strip()).map(p -> p.kind().prefix()).orElse("admin?"))
                .orElse("-");
        return address + " " + kind;
    }

    /** Token buckets by key, at most {@code tracked} of them. */
    static final class Buckets {

        private static final int STRIPES = 16;

        private final double perNano;
        private final double burst;
        private final Map<String, double[]>[] stripes;

        @SuppressWarnings("unchecked")
        Buckets(double perSecond, int burst, int tracked) {
            this.perNano = perSecond / 1e9;
            this.burst = burst;
            int perStripe = Math.max(1, tracked / STRIPES);
            this.stripes = new Map[STRIPES];
            for (int i = 0; i < STRIPES; i++) {
                stripes[i] = new LinkedHashMap<>(16, 0.75f, true) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, double[]> eldest) {
                        return size() > perStripe;
                    }
                };
            }
        }

        private Map<String, double[]> stripe(String key) {
            return stripes[Math.floorMod(key.hashCode(), STRIPES)];
        }

        /** Takes a token for {@code key}: 0 when it did, else how many nanoseconds until one is there. */
        long take(String key, long nowNanos) {
            Map<String, double[]> stripe = stripe(key);
            synchronized (stripe) {
                // {tokens, last refill in nanoseconds}
                double[] bucket = stripe.computeIfAbsent(key, k -> new double[] {burst, nowNanos});
                double elapsed = nowNanos - bucket[1];
                if (elapsed > 0) {
                    bucket[0] = Math.min(burst, bucket[0] + elapsed * perNano);
                    bucket[1] = nowNanos;
                }
                if (bucket[0] >= 1) {
                    bucket[0] -= 1;
                    return 0;
                }
                return perNano <= 0 ? Long.MAX_VALUE : (long) Math.ceil((1 - bucket[0]) / perNano);
            }
        }

        /** Returns a token taken for {@code key} (up to the burst). */
        void giveBack(String key) {
            Map<String, double[]> stripe = stripe(key);
            synchronized (stripe) {
                double[] bucket = stripe.get(key);
                if (bucket != null) {
                    bucket[0] = Math.min(burst, bucket[0] + 1);
                }
            }
        }

        /** How many keys are tracked. */
        int size() {
            int size = 0;
            for (Map<String, double[]> stripe : stripes) {
                synchronized (stripe) {
                    size += stripe.size();
                }
            }
            return size;
        }
    }
}
