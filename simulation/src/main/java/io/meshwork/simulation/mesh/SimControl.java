package io.meshwork.simulation.mesh;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.SecurityPolicy;
import io.meshwork.protocol.policy.PolicyGroup;
import io.meshwork.protocol.policy.PolicyIndex;
import io.meshwork.protocol.policy.PolicyMember;
import io.meshwork.simulation.Simulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Control as the simulated nodes see it: per organization a directory of devices and a revision counter, endpoint
 * reports in, and one peer-map stream per device out, with the messages of the real API ({@link EndpointReport}
 * in, {@link PeerMapEvent} lines out, both through JSON as on the wire). A stream starts with a snapshot of every
 * other device it may learn, then carries upserts and removals, each with the organization's revision after it.
 * What a device may learn follows control's rule (docs/api.md, "Security groups"), by the same
 * {@link PolicyIndex}: with no security group every device learns every other; with some, a device learns exactly
 * the devices it may send to or receive from, and its stream carries its inbound policy. Like the real
 * feed, changes are coalesced: the first change after a quiet {@link #COALESCE_WINDOW} goes out at once, later ones
 * wait for the window to end and go out together. Every message also spends {@link #DELIVERY_DELAY} between node
 * and control. A removed device's own stream ends, as the real one does when a device is deleted or revoked.
 *
 * <p>Everything runs on the simulation's virtual clock, so the order of reports, revisions and events is part of
 * the seed's one run.
 */
public final class SimControl {

    /** How long control gathers changes of one organization before its streams send them (the real default). */
    public static final Duration COALESCE_WINDOW = Duration.ofMillis(100);
    /** The one-way delay between a node and control, both for reports and for stream lines. */
    public static final Duration DELIVERY_DELAY = Duration.ofMillis(50);

    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** One device's entry in its organization's directory, with the revision of its last change. */
    private record DeviceRecord(PeerInfo info, long revision) {}

    /** A device's open peer-map stream, the revision it has sent up to, and the peers and policy it sent. */
    private static final class Stream {
        final String deviceId;
        final Consumer<PeerMapEvent> events;
        final Runnable ended;
        long revision;
        Set<String> sent = Set.of();
        SecurityPolicy policySent;

        Stream(String deviceId, Consumer<PeerMapEvent> events, Runnable ended) {
            this.deviceId = deviceId;
            this.events = events;
            this.ended = ended;
        }
    }

    private final class Organization {
        final String id;
        final int number;
        final Map<String, DeviceRecord> devices = new LinkedHashMap<>();
        /** Removed device ids and the revision that removed them. */
        final Map<String, Long> removed = new LinkedHashMap<>();
        final List<Stream> streams = new ArrayList<>();
        final Map<String, PolicyGroup> groups = new LinkedHashMap<>();
        final PolicyIndex index = new PolicyIndex(List.of());
        long revision;
        int registered;
        boolean flushPending;
        /** When the streams last sent, null before the first time. */
        Duration lastFlush;

        Organization(String id, int number) {
            this.id = id;
            this.number = number;
        }

        void changed() {
            if (flushPending) {
                return;
            }
            flushPending = true;
            Duration windowEnd = lastFlush == null ? simulation.now() : lastFlush.plus(COALESCE_WINDOW);
            Duration wait = windowEnd.compareTo(simulation.now()) > 0 ? windowEnd.minus(simulation.now()) : Duration.ZERO;
            simulation.at(wait, this::flush);
        }

        /** Sends each stream what changed since the revision it sent last. */
        void flush() {
            flushPending = false;
            lastFlush = simulation.now();
            for (Stream stream : List.copyOf(streams)) {
                if (removed.containsKey(stream.deviceId)) {
                    streams.remove(stream);
                    simulation.at(DELIVERY_DELAY, stream.ended);
                    continue;
                }
                Set<String> visible = index.visibleTo(stream.deviceId);
                List<PeerInfo> upserted = new ArrayList<>();
                devices.forEach((deviceId, record) -> {
                    boolean changed = record.revision() > stream.revision || !stream.sent.contains(deviceId);
                    if (changed && visible.contains(deviceId)) {
                        upserted.add(record.info());
                    }
                });
                List<String> gone = stream.sent.stream().filter(id -> !visible.contains(id)).sorted().toList();
                stream.revision = revision;
                stream.sent = visible;
                if (!upserted.isEmpty()) {
                    send(stream, new PeerMapEvent(PeerMapEvent.UPSERT, revision, upserted, List.of()));
                }
                if (!gone.isEmpty()) {
                    send(stream, new PeerMapEvent(PeerMapEvent.REMOVE, revision, List.of(), gone));
                }
                SecurityPolicy policy = index.policyOf(stream.deviceId);
                if (!policy.equals(stream.policySent)) {
                    stream.policySent = policy;
                    send(stream, new PeerMapEvent(PeerMapEvent.POLICY, revision, List.of(), List.of(), policy));
                }
            }
        }

        /** The devices {@code deviceId} may learn. */
        List<PeerInfo> visibleTo(String deviceId) {
            Set<String> visible = index.visibleTo(deviceId);
            return devices.values().stream().map(DeviceRecord::info).filter(info -> visible.contains(info.id()))
                    .toList();
        }

        void put(PeerInfo info) {
            devices.put(info.id(), new DeviceRecord(info, ++revision));
            index.upsert(new PolicyMember(info.id(), info.tags(), info.overlayIps()));
            changed();
        }
    }

    private final Simulation simulation;
    private final Map<String, Organization> organizations = new LinkedHashMap<>();
    private final Map<String, Organization> organizationOf = new LinkedHashMap<>();

    SimControl(Simulation simulation) {
        this.simulation = simulation;
    }

    /** A new, empty organization; returns its id. */
    public String createOrganization() {
        int number = organizations.size() + 1;
        String id = "org" + number;
        organizations.put(id, new Organization(id, number));
        return id;
    }

    /**
     * Admits a device to {@code organizationId} with no endpoints yet (the node reports them after its first
     * discovery); returns the device id. A new revision: the organization's streams get an upsert.
     */
    public String register(String organizationId, String hostname, String publicKey) {
        return register(organizationId, hostname, publicKey, List.of());
    }

    /** As {@link #register(String, String, String)}, with the tags its registration key would stamp on it. */
    public String register(String organizationId, String hostname, String publicKey, List<String> tags) {
        Organization organization = organization(organizationId);
        int index = ++organization.registered;
        String deviceId = organizationId + "-d" + index;
        List<String> overlayIps = List.of("100.64." + organization.number + "." + index);
        organizationOf.put(deviceId, organization);
        organization.put(new PeerInfo(deviceId, hostname, publicKey, overlayIps, List.of(), Map.of(), nowMillis(),
                tags));
        return deviceId;
    }

    /** An administrator sets the device's tags: a new revision, and what others may learn of it may change. */
    public void tag(String deviceId, List<String> tags) {
        Organization organization = organizationOf.get(deviceId);
        DeviceRecord record = organization == null ? null : organization.devices.get(deviceId);
        if (record == null) {
            throw new IllegalArgumentException("no such device: " + deviceId);
        }
        PeerInfo old = record.info();
        organization.put(new PeerInfo(old.id(), old.hostname(), old.publicKey(), old.overlayIps(), old.endpoints(),
                old.nat(), old.lastSeenMillis(), tags, old.homeRelay()));
    }

    /** Creates or replaces a security group of {@code organizationId}: a new revision. */
    public void saveGroup(String organizationId, PolicyGroup group) {
        Organization organization = organization(organizationId);
        organization.groups.put(group.name(), group);
        organization.index.setGroups(organization.groups.values());
        organization.revision++;
        organization.changed();
    }

    /** Deletes a security group of {@code organizationId}: a new revision. */
    public void deleteGroup(String organizationId, String name) {
        Organization organization = organization(organizationId);
        if (organization.groups.remove(name) != null) {
            organization.index.setGroups(organization.groups.values());
            organization.revision++;
            organization.changed();
        }
    }

    /**
     * {@code POST /api/v1/devices/self/endpoints}: arrives after {@link #DELIVERY_DELAY}. A report that changes
     * nothing (endpoints, NAT report, home relay) makes no revision; one from a device that is gone is refused
     * (ignored).
     */
    public void report(String deviceId, EndpointReport report) {
        byte[] body = write(report);
        simulation.at(DELIVERY_DELAY, () -> {
            EndpointReport received = read(body, EndpointReport.class);
            Organization organization = organizationOf.get(deviceId);
            DeviceRecord record = organization == null ? null : organization.devices.get(deviceId);
            if (record == null) {
                return;
            }
            PeerInfo old = record.info();
            List<Endpoint> endpoints = received.endpoints() == null ? List.of() : received.endpoints();
            Map<String, Object> nat = received.nat() == null ? old.nat() : received.nat();
            // A home relay is a change like endpoints (docs/architecture.md, "Relay selection and failover").
            if (endpoints.equals(old.endpoints()) && nat.equals(old.nat())
                    && java.util.Objects.equals(received.homeRelay(), old.homeRelay())) {
                return;
            }
            organization.put(new PeerInfo(old.id(), old.hostname(), old.publicKey(), old.overlayIps(), endpoints, nat,
                    nowMillis(), old.tags(), received.homeRelay()));
        });
    }

    /**
     * {@code GET /api/v1/peers/stream}: from now on {@code events} gets the device's peer-map events, a snapshot
     * first; {@code ended} runs once when control ends the stream because the device was removed.
     */
    public void follow(String deviceId, Consumer<PeerMapEvent> events, Runnable ended) {
        Organization organization = organizationOf.get(deviceId);
        if (organization == null || !organization.devices.containsKey(deviceId)) {
            throw new IllegalArgumentException("no such device: " + deviceId);
        }
        Stream stream = new Stream(deviceId, events, ended);
        stream.revision = organization.revision;
        stream.sent = organization.index.visibleTo(deviceId);
        stream.policySent = organization.index.policyOf(deviceId);
        organization.streams.add(stream);
        send(stream, new PeerMapEvent(PeerMapEvent.SNAPSHOT, organization.revision, organization.visibleTo(deviceId),
                List.of(), stream.policySent));
    }

    /** Deletes a device from its organization: a new revision, and a removal on every other device's stream. */
    public void remove(String deviceId) {
        Organization organization = organizationOf.get(deviceId);
        if (organization == null || organization.devices.remove(deviceId) == null) {
            throw new IllegalArgumentException("no such device: " + deviceId);
        }
        organization.removed.put(deviceId, ++organization.revision);
        organization.index.remove(deviceId);
        organization.changed();
    }

    /** The organization's current revision. */
    public long revision(String organizationId) {
        return organization(organizationId).revision;
    }

    /** The device as control has it now, or null when there is no such device. */
    public PeerInfo device(String deviceId) {
        Organization organization = organizationOf.get(deviceId);
        DeviceRecord record = organization == null ? null : organization.devices.get(deviceId);
        return record == null ? null : record.info();
    }

    private void send(Stream stream, PeerMapEvent event) {
        byte[] line = write(event);
        simulation.at(DELIVERY_DELAY, () -> stream.events.accept(read(line, PeerMapEvent.class)));
    }

    private Organization organization(String organizationId) {
        Organization organization = organizations.get(organizationId);
        if (organization == null) {
            throw new IllegalArgumentException("no such organization: " + organizationId);
        }
        return organization;
    }

    private long nowMillis() {
        return simulation.now().toMillis();
    }

    private static byte[] write(Object message) {
        try {
            return JSON.writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an API record did not render as JSON", e);
        }
    }

    private static <T> T read(byte[] json, Class<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("an API line did not read back: " + new String(json,
                    java.nio.charset.StandardCharsets.UTF_8), e);
        }
    }
}
