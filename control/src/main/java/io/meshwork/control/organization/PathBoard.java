package io.meshwork.control.organization;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The paths devices last reported to their peers (docs/api.md, "Paths"): for each organization, each reporting
 * device's latest report, last write wins. It lives in this member's memory only and is never journaled: a report
 * says what is true now, the next one replaces it, and a restarted member learns the mesh again within a reporting
 * interval. Each member knows the reports its own listener received.
 *
 * <p>Bounded: at most {@code maxPerOrganization} reporting devices per organization and {@code maxTotal} in all;
 * a report beyond either replaces the organization's (or the board's) least recently reported device. Reports older
 * than {@code maxAge} are dropped when the board is read or written. A device may report at most once per
 * {@code minInterval}; {@link #report} refuses earlier reports so that a misbehaving node cannot make control do
 * work at its pace.
 *
 * <p>Every change takes a sequence number from one counter, so {@link #changedSince} answers exactly the reports a
 * follower has not seen (the console's live map polls it). Thread-safe: every method holds the board's lock, and
 * none does more than copy a few lists under it.
 */
public final class PathBoard {

    /** How a device reaches one peer: "direct", "relay" or "none". */
    public record PeerPath(String peerId, String path, Double latencyMillis, String relay, String reason) {}

    /** One device's latest report; {@code sequence} orders it among every change of the board. */
    public record DevicePaths(String deviceId, long reportedAtMillis, long sequence, List<PeerPath> peers) {}

    /** Reports changed after a sequence number, and the board's sequence number now. */
    public record Changes(long sequence, List<DevicePaths> devices, List<String> removed) {}

    /** A report arriving sooner than {@code minInterval} after the device's last one. */
    public static final class TooSoon extends RuntimeException {
        private final Duration retryAfter;

        TooSoon(Duration retryAfter) {
            super("a device reports its paths at most every interval", null, false, false);
            this.retryAfter = retryAfter;
        }

        public Duration retryAfter() {
            return retryAfter;
        }
    }

    private final int maxPerOrganization;
    private final int maxTotal;
    private final Duration maxAge;
    private final Duration minInterval;
    /** Organization id to its devices' reports, each map in order of last report (oldest first). */
    private final Map<String, LinkedHashMap<String, DevicePaths>> organizations = new HashMap<>();
    /** A report that went (replaced by none, expired or evicted), kept a while to be told to followers. */
    private record Removal(String organizationId, String deviceId, long sequence, long atMillis) {}

    /** Removals by organization and device id, oldest first; as bounded and as long-lived as reports. */
    private final LinkedHashMap<String, Removal> removals = new LinkedHashMap<>();
    private long sequence;
    private int total;

    public PathBoard(int maxPerOrganization, int maxTotal, Duration maxAge, Duration minInterval) {
        if (maxPerOrganization < 1 || maxTotal < 1) {
            throw new IllegalArgumentException("the path board needs room for at least one device");
        }
        this.maxPerOrganization = maxPerOrganization;
        this.maxTotal = maxTotal;
        this.maxAge = maxAge;
        this.minInterval = minInterval;
    }

    /**
     * Keeps {@code peers} as what {@code deviceId} of {@code organizationId} reports now, replacing its last report.
     *
     * @throws TooSoon when the device's last report is younger than the minimum interval
     */
    public synchronized DevicePaths report(String organizationId, String deviceId, List<PeerPath> peers,
            long nowMillis) {
        expire(nowMillis);
        LinkedHashMap<String, DevicePaths> devices = organizations.computeIfAbsent(organizationId,
                id -> new LinkedHashMap<>());
        DevicePaths previous = devices.get(deviceId);
        if (previous != null && nowMillis - previous.reportedAtMillis() < minInterval.toMillis()) {
            throw new TooSoon(Duration.ofMillis(minInterval.toMillis() - (nowMillis - previous.reportedAtMillis())));
        }
        if (previous != null) {
            devices.remove(deviceId);
            total--;
        } else {
            if (devices.size() >= maxPerOrganization) {
                evictOldest(organizationId, devices, nowMillis);
            }
            if (total >= maxTotal) {
                evictOldestOfBoard(nowMillis);
            }
        }
        DevicePaths report = new DevicePaths(deviceId, nowMillis, ++sequence, List.copyOf(peers));
        devices.put(deviceId, report);
        total++;
        removals.remove(organizationId + "/" + deviceId);
        return report;
    }

    /** Every current report of the organization, oldest first. */
    public synchronized List<DevicePaths> organization(String organizationId, long nowMillis) {
        expire(nowMillis);
        LinkedHashMap<String, DevicePaths> devices = organizations.get(organizationId);
        return devices == null ? List.of() : List.copyOf(devices.values());
    }

    /** The reports of the organization changed after {@code since}, and the devices whose reports went since. */
    public synchronized Changes changedSince(String organizationId, long since, long nowMillis) {
        expire(nowMillis);
        List<DevicePaths> changed = new ArrayList<>();
        LinkedHashMap<String, DevicePaths> devices = organizations.get(organizationId);
        if (devices != null) {
            for (DevicePaths report : devices.values()) {
                if (report.sequence() > since) {
                    changed.add(report);
                }
            }
        }
        List<String> gone = new ArrayList<>();
        for (Removal removal : removals.values()) {
            if (removal.sequence() > since && removal.organizationId().equals(organizationId)) {
                gone.add(removal.deviceId());
            }
        }
        return new Changes(sequence, changed, gone);
    }

    /** How many devices have a current report, in all organizations. */
    public synchronized int size() {
        return total;
    }

    /** Drops reports older than the maximum age, and removals every follower has had time to see. */
    private void expire(long nowMillis) {
        long oldest = nowMillis - maxAge.toMillis();
        Iterator<Map.Entry<String, LinkedHashMap<String, DevicePaths>>> organizationsLeft =
                organizations.entrySet().iterator();
        while (organizationsLeft.hasNext()) {
            Map.Entry<String, LinkedHashMap<String, DevicePaths>> entry = organizationsLeft.next();
            Iterator<DevicePaths> reports = entry.getValue().values().iterator();
            while (reports.hasNext()) {
                DevicePaths report = reports.next();
                // Oldest first: the first current report ends the search.
                if (report.reportedAtMillis() >= oldest) {
                    break;
                }
                reports.remove();
                total--;
                removed(entry.getKey(), report.deviceId(), nowMillis);
            }
            if (entry.getValue().isEmpty()) {
                organizationsLeft.remove();
            }
        }
        Iterator<Removal> notes = removals.values().iterator();
        while (notes.hasNext() && notes.next().atMillis() < oldest) {
            notes.remove();
        }
    }

    private void evictOldest(String organizationId, LinkedHashMap<String, DevicePaths> devices, long nowMillis) {
        Iterator<DevicePaths> oldest = devices.values().iterator();
        String deviceId = oldest.next().deviceId();
        oldest.remove();
        total--;
        removed(organizationId, deviceId, nowMillis);
    }

    private void evictOldestOfBoard(long nowMillis) {
        String organizationId = null;
        DevicePaths oldest = null;
        for (Map.Entry<String, LinkedHashMap<String, DevicePaths>> entry : organizations.entrySet()) {
            Collection<DevicePaths> reports = entry.getValue().values();
            if (!reports.isEmpty()) {
                DevicePaths first = reports.iterator().next();
                if (oldest == null || first.reportedAtMillis() < oldest.reportedAtMillis()) {
                    oldest = first;
                    organizationId = entry.getKey();
                }
            }
        }
        if (oldest != null) {
            LinkedHashMap<String, DevicePaths> devices = organizations.get(organizationId);
            devices.remove(oldest.deviceId());
            total--;
            removed(organizationId, oldest.deviceId(), nowMillis);
            if (devices.isEmpty()) {
                organizations.remove(organizationId);
            }
        }
    }

    /** Notes a removal for followers; at most as many notes as reports are kept, the oldest dropped first. */
    private void removed(String organizationId, String deviceId, long nowMillis) {
        String key = organizationId + "/" + deviceId;
        removals.remove(key);
        removals.put(key, new Removal(organizationId, deviceId, ++sequence, nowMillis));
        if (removals.size() > maxTotal) {
            Iterator<Removal> oldest = removals.values().iterator();
            oldest.next();
            oldest.remove();
        }
    }
}
