package io.meshwork.relay.control;

import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.relay.auth.RevocationList;
import io.meshwork.relay.auth.VerifiedDevice;
import io.meshwork.relay.server.RelayEvents;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a registered relay's standing with control: every heartbeat it reports health, sends the endpoints
 * observed since the last beat, and fetches the revoked serials into the {@link RevocationList}. Control being
 * unreachable is logged and retried at the next beat; the relay keeps serving with what it last knew.
 */
public final class RelayRegistration implements RelayEvents, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RelayRegistration.class);
    private static final int MAX_PENDING_OBSERVATIONS = 10_000;

    private final ControlPlane control;
    private final String relayId;
    private final RevocationList revocations;
    private final Supplier<ControlPlane.Health> health;
    private final BlockingQueue<ControlPlane.Observation> observations =
            new ArrayBlockingQueue<>(MAX_PENDING_OBSERVATIONS);
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "relay-registration");
        thread.setDaemon(true);
        return thread;
    });

    public RelayRegistration(ControlPlane control, String relayId, RevocationList revocations,
            Supplier<ControlPlane.Health> health) {
        this.control = control;
        this.relayId = relayId;
        this.revocations = revocations;
        this.health = health;
    }

    /** Fetches the revocations once now, then beats every {@code heartbeatSeconds}. */
    public void start(int heartbeatSeconds) {
        executor.execute(this::pollRevocations);
        executor.scheduleWithFixedDelay(this::beat, heartbeatSeconds, heartbeatSeconds, TimeUnit.SECONDS);
    }

    @Override
    public void sessionOpened(VerifiedDevice device, Transport transport, InetSocketAddress observed) {
        ControlPlane.Observation observation = new ControlPlane.Observation(device.deviceId(),
                device.key().toBase64(), transport.name().toLowerCase(Locale.ROOT),
                IpLiteral.format(observed));
        if (!observations.offer(observation)) {
            log.debug("observation queue full; dropped {}", observation);
        }
    }

    void beat() {
        try {
            control.reportHealth(relayId, health.get());
            List<ControlPlane.Observation> batch = new ArrayList<>();
            observations.drainTo(batch);
            if (!batch.isEmpty()) {
                control.reportObservations(relayId, batch);
            }
        } catch (ControlException e) {
            log.warn("control heartbeat failed: {}", e.getMessage());
        }
        pollRevocations();
    }

    private void pollRevocations() {
        try {
            revocations.replace(control.revokedSerials(relayId));
        } catch (ControlException e) {
            log.warn("fetching revocations from control failed: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
